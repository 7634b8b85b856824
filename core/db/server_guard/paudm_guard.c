/*
 * paudm_guard: a PostgreSQL server module that keeps the SQL browser's role inside its
 * statement timeout.
 *
 * statement_timeout is a user-settable parameter: any role may SET it, and PostgreSQL has
 * no privilege that forbids it (GRANT SET ON PARAMETER only governs superuser-only
 * parameters). Written by hand because no packaged extension does this. The module
 * checks, before and after every statement of a session whose login role is the guarded
 * one, that statement_timeout is positive and no larger than the ceiling; otherwise the
 * statement fails, and since parameter changes are transactional the failed SET or
 * set_config() is undone with it.
 *
 * Settings (postgresql.conf, superuser only):
 *   paudm_guard.role                   the guarded login role (default paudm_reader)
 *   paudm_guard.max_statement_timeout  the ceiling in milliseconds (default 30000)
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void _PG_init(void);

static char *guarded_role = NULL;
static int max_statement_timeout = 30000;

static ProcessUtility_hook_type prev_process_utility = NULL;
static ExecutorStart_hook_type prev_executor_start = NULL;
static ExecutorEnd_hook_type prev_executor_end = NULL;

static bool
session_is_guarded(void)
{
	Oid			role;

	if (guarded_role == NULL || guarded_role[0] == '\0' || !IsTransactionState())
		return false;
	role = get_role_oid(guarded_role, true);
	return OidIsValid(role) && GetSessionUserId() == role;
}

static void
enforce(void)
{
	if (!session_is_guarded())
		return;
	if (StatementTimeout <= 0 || StatementTimeout > max_statement_timeout)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not set statement_timeout to %d ms", guarded_role, StatementTimeout),
				 errdetail("Its statement timeout must lie between 1 and %d ms.", max_statement_timeout),
				 errhint("RESET statement_timeout;")));
}

static void
guard_executor_start(QueryDesc *queryDesc, int eflags)
{
	enforce();
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

static void
guard_executor_end(QueryDesc *queryDesc)
{
	if (prev_executor_end)
		prev_executor_end(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
	enforce();					/* catches SELECT set_config('statement_timeout', ...) */
}

static void
guard_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					  ProcessUtilityContext context, ParamListInfo params,
					  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	/* SET and RESET may run in a bad state: that is how a session gets out of one. */
	if (!IsA(pstmt->utilityStmt, VariableSetStmt))
		enforce();
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	enforce();
}

void
_PG_init(void)
{
	DefineCustomStringVariable("paudm_guard.role",
							   "Login role whose statement_timeout may not be raised.",
							   NULL, &guarded_role, "paudm_reader", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("paudm_guard.max_statement_timeout",
							"Largest statement_timeout the guarded role may have.",
							NULL, &max_statement_timeout, 30000, 1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("paudm_guard");

	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = guard_process_utility;
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = guard_executor_start;
	prev_executor_end = ExecutorEnd_hook;
	ExecutorEnd_hook = guard_executor_end;
}

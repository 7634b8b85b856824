// paudm: the PAUdm command line. Every command works against the embedded server unless
// --db or PAUDM_DB names another one.
#include "cli.h"
#include "common/pixel_memory.h"

#include "jobs/runner.h"

#include "common/config.h"
#include "common/version.h"
#include "pipelines/tasks.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>
#include <cstring>

namespace {

const char* kCommands = R"TXT(Commands:
  db start                start the embedded PostgreSQL server (initialised the first time)
  db stop                 stop the embedded server
  db status               where the database is, whether it runs, its schema version
  db migrate              apply pending schema migrations (safe to repeat)
  db url [--read-only]    print a libpq URI for psql or other tools
  jobs create TASK ...    create a job (prints its id); --submit queues it
  jobs submit | list | show | tags | graph | retry | abort | remove
                          manage jobs (each takes --help)
  runner [--threads N] [--until-idle] ...
                          run jobs (a pilot; many may run at once, anywhere)
  simulate --out BUFFER --night DATE ...
                          write a simulated PAUCam obs set (raw mosaics + YAML) and its truth
  night [--buffer DIR] [--archive DIR]
                          the morning routine: transfer the buffer, register it in PAUdb,
                          reduce it (master bias, master flats, detrended science mosaics)
  reprocess --obs-set X | --night D --release R
                          reduce registered obs sets again from the archive, as a new release
  reduce RAW --out OUT [--bias B] [--flat F]
                          detrend one raw frame by hand (any frame with BIASSEC/DATASEC/GAIN)
  detect IMAGE[EXT] --out CSV
                          background, sources and sky positions of one image, as single_epoch
  report nightly --night D [--to D2] [--cuts NAME[@V]] [--format csv|json|html]
                          each science exposure's quality against a versioned cut set;
                          report cuts list | show | save | default; report compare A B
  sql "QUERY" [--limit N] [--format table|csv|json] [--out FILE] [--all]
                          one read-only query (role paudm_reader, row limit, timeout);
                          --all --out FILE.csv|.fits exports the whole result
  fits info FILE | header FILE[EXT] | stats FILE[EXT] [--json]
                          a FITS file's HDUs, header cards, and pixel statistics with the
                          viewer's zscale limits
  transfer --from BUFFER [--archive DIR] [--streams N]
                          copy the buffer's obs sets into the archive, verified, with a ledger
  buffer status | clean [--dry-run] [--min-age 5d]
                          what holds each obs set in the buffer; remove those nothing holds
  catalog simulate --field RA,DEC [--radius DEG]
                          load the simulated sky's reference stars and galaxies into PAUdb

The database:
  With neither --db nor PAUDM_DB, paudm uses a private PostgreSQL cluster under
  $PAUDM_HOME (default: $XDG_DATA_HOME/paudm, i.e. ~/.local/share/paudm) that listens only
  on a Unix socket there; it is created and started when first needed.
  --db / PAUDM_DB take any libpq connection string, URI or "service=NAME"; passwords come
  from ~/.pgpass, PGPASSWORD or the service file and are never printed.

Examples:
  paudm db status
  psql "$(paudm db url)"
  paudm --db "host=dbserver dbname=paudb user=pau" db migrate
  paudm jobs create fanout --set n=1000 --set shape=diamond --submit
  paudm runner --threads 4 --until-idle
  paudm jobs list --top --status FAILED
  paudm simulate --out buffer --night 2026-11-24 --geometry small --truth truth
  paudm night --buffer buffer --archive archive
  paudm reprocess --night 2026-11-24 --release R2
  paudm reduce archive/raw/20261124_001/paucam.43450010.fits --out reduced.fits
  paudm detect archive/red/R1/20261124_001/paucam.43450010.ccd07.fits --out ccd07.csv
  paudm buffer status --buffer buffer
  paudm report nightly --night 2026-11-24 --format html --out report.html
  paudm fits stats archive/red/R1/20261124_001/paucam.43450010.ccd07.fits --json
  paudm sql "SELECT night, count(*) FROM obs_set GROUP BY night ORDER BY night"
)TXT";

} // namespace

int main(int argc, char** argv) {
    paudm::pipelines::installAllTasks(); // the engine runs the pipelines this program knows
    // A runner starts task processes as `paudm __task`: job on stdin, result on fd 3.
    if (argc == 2 && std::strcmp(argv[1], "__task") == 0) {
        paudm::reuseFreedPixelMemory(); // short-lived, and where the pixel work runs
        QCoreApplication app(argc, argv);
        return paudm::jobs::taskProcessMain();
    }
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName("paudm");
    // --version: "paudm 0.1.0 (git ...)" and, on the next line, the libraries in use.
    QCoreApplication::setApplicationVersion(QString::fromStdString(paudm::versionReport("").substr(1)));
    // The configuration files fill what the environment leaves unset (common/config.h).
    for (const std::string& problem : paudm::applyConfiguration())
        std::fprintf(stderr, "paudm: configuration: %s\n", problem.c_str());

    QCommandLineParser parser;
    parser.setApplicationDescription("PAUdm: data management of the PAU Survey.\n\n" + QString(kCommands));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({"db", "PostgreSQL connection string, URI or service=NAME (default: $PAUDM_DB, else the "
                            "embedded server).", "conninfo"});
    parser.addOption({"home", "PAUdm data folder (default: $PAUDM_HOME, else $XDG_DATA_HOME/paudm).", "dir"});
    parser.addPositionalArgument("command",
                                 "db, jobs, runner, simulate, night, transfer, buffer, catalog, reprocess, reduce, detect, report, sql or fits (see below)");
    parser.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsPositionalArguments);
    parser.process(app);

    const QStringList rest = parser.positionalArguments();
    if (rest.isEmpty()) {
        std::fputs(qPrintable(parser.helpText()), stderr);
        return 2;
    }
    if (parser.isSet("home")) qputenv("PAUDM_HOME", parser.value("home").toLocal8Bit());
    paudm::cli::Globals globals{parser.value("db")};
    const QString command = rest.first();
    if (command == "db") return paudm::cli::dbCommand(rest.mid(1), globals);
    if (command == "jobs") return paudm::cli::jobsCommand(rest.mid(1), globals);
    if (command == "runner") return paudm::cli::runnerCommand(rest.mid(1), globals);
    if (command == "simulate") return paudm::cli::simulateCommand(rest.mid(1), globals);
    if (command == "transfer") return paudm::cli::transferCommand(rest.mid(1), globals);
    if (command == "buffer") return paudm::cli::bufferCommand(rest.mid(1), globals);
    if (command == "night") return paudm::cli::nightCommand(rest.mid(1), globals);
    if (command == "catalog") return paudm::cli::catalogCommand(rest.mid(1), globals);
    if (command == "reduce") {
        paudm::reuseFreedPixelMemory();
        return paudm::cli::reduceCommand(rest.mid(1), globals);
    }
    if (command == "detect") {
        paudm::reuseFreedPixelMemory();
        return paudm::cli::detectCommand(rest.mid(1), globals);
    }
    if (command == "reprocess") return paudm::cli::reprocessCommand(rest.mid(1), globals);
    if (command == "report") return paudm::cli::reportCommand(rest.mid(1), globals);
    if (command == "sql") return paudm::cli::sqlCommand(rest.mid(1), globals);
    if (command == "fits") return paudm::cli::fitsCommand(rest.mid(1), globals);
    std::fprintf(stderr, "paudm: unknown command '%s' (see paudm --help)\n", qPrintable(command));
    return 2;
}

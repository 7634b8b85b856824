#pragma once
// The project's error type and the Result alias used at engine boundaries.
//
// Inside a module, code may throw paudm::Error; whatever crosses a thread, a C
// callback or the boundary to the console returns Result<T> instead (capture()
// turns the one into the other). The message is complete on its own: it names the
// file / HDU / keyword / SQLSTATE / target and what was being attempted, so the
// console can show it as is.
#include <expected>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace paudm {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, std::string code = {})
        : std::runtime_error(message), code_(std::move(code)) {}

    /// Machine-readable cause: a SQLSTATE, "cfitsio:<status>", "wcslib:<status>",
    /// an errno name, or empty.
    const std::string& code() const noexcept { return code_; }
    std::string message() const { return what(); }

    /// The same error with "context: " put in front of the message.
    Error withContext(const std::string& context) const { return Error(context + ": " + what(), code_); }

private:
    std::string code_;
};

template <class T> using Result = std::expected<T, Error>;

/// Runs f and returns its value, or the paudm::Error (or any other exception) it threw.
template <class F> auto capture(F&& f) -> Result<std::invoke_result_t<F>> {
    using T = std::invoke_result_t<F>;
    try {
        if constexpr (std::is_void_v<T>) {
            std::forward<F>(f)();
            return {};
        } else {
            return std::forward<F>(f)();
        }
    } catch (const Error& e) {
        return std::unexpected(e);
    } catch (const std::exception& e) {
        return std::unexpected(Error(e.what()));
    } catch (...) {
        return std::unexpected(Error("unknown exception (not a std::exception)"));
    }
}

/// Returns the value of r or throws its error: the way back from a Result into code
/// that uses exceptions.
template <class T> T unwrap(Result<T> r) {
    if (!r) throw r.error();
    if constexpr (!std::is_void_v<T>) return std::move(*r);
}

} // namespace paudm

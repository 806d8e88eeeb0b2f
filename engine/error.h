// The one exception type of the library. Messages name the op, file or value at fault:
//   [conv2d] input has 4 channels, weight expects 3
//   [voc] Annotations/000123.xml line 14: <xmin> is not a number
// The library never calls exit() or abort(); the command line catches Error and exits 1.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace focal {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// fail("[op] ", a, " vs ", b): builds the message from streamable parts and throws.
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    throw Error(out.str());
}

// check(cond, parts...): throws Error(parts...) when cond is false. Its message parts are
// evaluated even when cond holds; on hot paths use FOCAL_CHECK, which builds them only on
// failure.
template <class... Parts>
void check(bool condition, const Parts&... parts) {
    if (!condition) fail(parts...);
}

#define FOCAL_CHECK(condition, ...)                   \
    do {                                              \
        if (!(condition)) ::focal::fail(__VA_ARGS__); \
    } while (0)

}  // namespace focal

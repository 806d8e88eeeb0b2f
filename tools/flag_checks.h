// Checks for numeric flags that say what the flag accepts in words, so a bad value is one
// short line:  focal: error: --batch: must be > 0, got -1
// (CLI11's own PositiveNumber and Range print the whole range of a double instead.)
#pragma once
#include <cmath>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

namespace focal::cli {

// A validator that parses the value as a number and keeps it when `ok(v)` holds.
template <class Predicate>
CLI::Validator number_check(const std::string& rule, Predicate ok) {
    return CLI::Validator(
        [rule, ok](std::string& text) -> std::string {
            std::istringstream in(text);
            double v = 0;
            in >> v;
            if (in.fail() || !in.eof()) return "must be a number " + rule + ", got '" + text + "'";
            return std::isfinite(v) && ok(v) ? std::string() : "must be " + rule + ", got " + text;
        },
        rule);
}

inline CLI::Validator positive() {
    return number_check("> 0", [](double v) { return v > 0; });
}
inline CLI::Validator non_negative() {
    return number_check(">= 0", [](double v) { return v >= 0; });
}
inline CLI::Validator fraction() {
    return number_check("in [0, 1]", [](double v) { return v >= 0 && v <= 1; });
}
inline CLI::Validator in_range(double low, double high) {
    std::ostringstream rule;
    rule << "in [" << low << ", " << high << "]";
    return number_check(rule.str(), [low, high](double v) { return v >= low && v <= high; });
}

}  // namespace focal::cli

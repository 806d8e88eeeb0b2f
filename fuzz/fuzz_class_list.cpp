// libFuzzer target for class lists (data/voc_classes.cpp): parse_class_list, the code that
// reads classes.txt, and parse_class_names, the comma-separated --classes list. Any input must
// either throw focal::Error or keep the promise; anything else is a finding. The promise of a
// successful parse: a non-empty list of unique names, each non-empty, without leading or
// trailing space, tab or CR, without NUL, and without '\n' (a file) or ',' (a comma list); a
// file's names never start with '#'. Writing the names one a line reads them back the same.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "alloc_bound.h"
#include "data/voc.h"
#include "engine/error.h"

using namespace focal::data;

namespace {

void check_names(const std::vector<std::string>& names, char separator) {
    if (names.empty()) __builtin_trap();
    std::set<std::string> seen;
    for (const std::string& name : names) {
        if (name.empty() || name.find('\0') != std::string::npos || name.find(separator) != std::string::npos)
            __builtin_trap();
        const std::string edge = " \t\r\n";
        if (edge.find(name.front()) != std::string::npos || edge.find(name.back()) != std::string::npos)
            __builtin_trap();
        if (!seen.insert(name).second) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    focal::fuzz::AllocationBound bound(size, 128);  // both parses and the round trip together
    try {
        const std::vector<std::string> names = parse_class_list(text, "classes.txt");
        check_names(names, '\n');
        std::string written;
        for (const std::string& name : names) {
            if (name[0] == '#') __builtin_trap();
            written += name + "\n";
        }
        if (parse_class_list(written, "written.txt") != names) __builtin_trap();
    } catch (const focal::Error&) {}
    try {
        check_names(parse_class_names(text), ',');
    } catch (const focal::Error&) {}
    return 0;
}

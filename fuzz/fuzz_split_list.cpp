// libFuzzer target for ImageSets split lists: parse_split_list (data/voc.cpp), the code
// read_split_file runs on a file's text. Any input must either throw focal::Error or keep the
// promise; anything else is a finding. The promise of a successful parse:
//   - at least one id; ids unique; each a plain file name: not empty, ".", "..", and without
//     '/', '\\', NUL or whitespace (space, tab, CR, LF);
//   - with a `skipped` list the same text gives the same ids and nothing skipped.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "alloc_bound.h"
#include "data/voc.h"
#include "engine/error.h"

using namespace focal::data;

namespace {

void check_ids(const std::vector<std::string>& ids) {
    if (ids.empty()) __builtin_trap();
    std::set<std::string> seen;
    for (const std::string& id : ids) {
        if (id.empty() || id == "." || id == "..") __builtin_trap();
        if (id.find_first_of(std::string("/\\ \t\r\n\0", 8)) != std::string::npos) __builtin_trap();
        if (!seen.insert(id).second) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    focal::fuzz::AllocationBound bound(size, 128);  // both parses, and their results, together
    std::vector<std::string> strict;
    bool strict_ok = true;
    try {
        strict = parse_split_list(text, "train.txt");
        check_ids(strict);
    } catch (const focal::Error&) {
        strict_ok = false;
    }
    std::vector<std::string> skipped;
    try {
        const std::vector<std::string> lenient = parse_split_list(text, "train.txt", &skipped);
        check_ids(lenient);
        if (strict_ok && (lenient != strict || !skipped.empty())) __builtin_trap();
        if (!strict_ok && skipped.empty()) __builtin_trap();  // the strict error must be a skippable line
    } catch (const focal::Error&) {
        if (strict_ok) __builtin_trap();
    }
    return 0;
}

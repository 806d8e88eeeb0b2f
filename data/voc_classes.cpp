// Class lists: the VOC default, a classes.txt, an explicit list (see DatasetOptions::classes).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "data/voc.h"
#include "engine/error.h"

namespace focal::data {
namespace fs = std::filesystem;

const std::vector<std::string>& voc_classes() {
    static const std::vector<std::string> classes = {"aeroplane",   "bicycle", "bird",  "boat",      "bottle",
                                                     "bus",         "car",     "cat",   "chair",     "cow",
                                                     "diningtable", "dog",     "horse", "motorbike", "person",
                                                     "pottedplant", "sheep",   "sofa",  "train",     "tvmonitor"};
    return classes;
}

namespace {

std::string trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return "";
    return std::string(s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1));
}

void check_unique(const std::vector<std::string>& names, const std::string& where) {
    std::set<std::string> seen;
    check(!names.empty(), "[classes] ", where, ": the class list is empty");
    for (const std::string& name : names) {
        check(name.find('\0') == std::string::npos, "[classes] ", where, ": a class name holds a NUL byte");
        check(seen.insert(name).second, "[classes] ", where, ": class '", name, "' is listed twice");
    }
}

std::vector<std::string> read_class_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    check(bool(in), "[classes] cannot read the class list ", path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    check(!in.bad(), "[classes] cannot read the class list ", path);
    return parse_class_list(text, path);
}

}  // namespace

std::vector<std::string> parse_class_list(std::string_view text, const std::string& where) {
    std::vector<std::string> names;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t newline = std::min(text.find('\n', start), text.size());
        const std::string line = trimmed(text.substr(start, newline - start));
        start = newline + 1;
        if (!line.empty() && line[0] != '#') names.push_back(line);
    }
    check_unique(names, where);
    return names;
}

std::vector<std::string> parse_class_names(std::string_view spec) {
    std::vector<std::string> names;
    std::size_t start = 0;
    while (start <= spec.size()) {
        const std::size_t comma = std::min(spec.find(',', start), spec.size());
        const std::string name = trimmed(spec.substr(start, comma - start));
        check(!name.empty(), "[classes] --classes '", spec, "': an empty class name (and no file ",
              "of that name exists)");
        names.push_back(name);
        start = comma + 1;
    }
    check_unique(names, "--classes");
    return names;
}

std::vector<std::string> resolve_class_list(const std::string& spec, const std::string& root, std::string* source) {
    std::string description;
    std::vector<std::string> names;
    const fs::path beside = fs::path(root) / "classes.txt";
    if (spec == "auto") {
        description = "collected from the annotations";
    } else if (spec == "voc" || (spec.empty() && !fs::exists(beside))) {
        names = voc_classes();
        description = "the 20 VOC classes";
    } else if (spec.empty() || fs::is_regular_file(spec)) {
        const std::string path = spec.empty() ? beside.string() : spec;
        names = read_class_file(path);
        description = path;
    } else {
        names = parse_class_names(spec);
        description = "the list given";
    }
    if (source) *source = description;
    return names;
}

}  // namespace focal::data

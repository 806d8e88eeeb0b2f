// Class lists: the VOC default, a classes.txt, an explicit list (see DatasetOptions::classes).
#include <filesystem>
#include <fstream>
#include <set>

#include "data/voc.h"
#include "engine/error.h"

namespace focal::data {
namespace fs = std::filesystem;

const std::vector<std::string>& voc_classes() {
    static const std::vector<std::string> classes = {
        "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",      "car",
        "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",    "motorbike",
        "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};
    return classes;
}

namespace {

std::string trimmed(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

void check_unique(const std::vector<std::string>& names, const std::string& where) {
    std::set<std::string> seen;
    check(!names.empty(), "[classes] ", where, ": the class list is empty");
    for (const std::string& name : names)
        check(seen.insert(name).second, "[classes] ", where, ": class '", name, "' is listed twice");
}

std::vector<std::string> read_class_file(const std::string& path) {
    std::ifstream in(path);
    check(bool(in), "[classes] cannot read the class list ", path);
    std::vector<std::string> names;
    for (std::string line; std::getline(in, line);) {
        line = trimmed(line);
        if (!line.empty() && line[0] != '#') names.push_back(line);
    }
    check_unique(names, path);
    return names;
}

}  // namespace

std::vector<std::string> resolve_class_list(const std::string& spec, const std::string& root,
                                            std::string* source) {
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
        description = "the list given";
    }
    if (source) *source = description;
    return names;
}

}  // namespace focal::data

#include "data/voc.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <utility>

#include "engine/error.h"
#include "engine/util.h"

namespace focal::data {
namespace fs = std::filesystem;

namespace {

std::string list_voc_folders(const fs::path& dir) {
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.is_directory() && entry.path().filename().string().rfind("VOC", 0) == 0)
            found.push_back(entry.path().filename().string());
    std::sort(found.begin(), found.end());
    return found.empty() ? "none" : join(found, ", ");
}

bool is_file_name(const std::string& id) {
    return !id.empty() && id != "." && id != ".." &&
           id.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos;
}

// The image an annotation points at: JPEGImages/<id>.jpg, else JPEGImages/<filename>.
std::string find_image(const fs::path& root, const Annotation& a) {
    const fs::path jpg = root / "JPEGImages" / (a.id + ".jpg");
    if (fs::exists(jpg) || a.filename.empty() || !is_file_name(a.filename)) return jpg.string();
    const fs::path named = root / "JPEGImages" / a.filename;
    return fs::exists(named) ? named.string() : jpg.string();
}

std::vector<std::string> all_annotation_ids(const fs::path& root) {
    std::vector<std::string> ids;
    for (const auto& entry : fs::directory_iterator(root / "Annotations"))
        if (entry.path().extension() == ".xml") ids.push_back(entry.path().stem().string());
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::string split_file(const fs::path& root, const std::string& split) {
    if (split.size() > 4 && split.ends_with(".txt") && fs::is_regular_file(split)) return split;
    const fs::path main = root / "ImageSets" / "Main";
    const fs::path path = main / (split + ".txt");
    if (fs::is_regular_file(path)) return path.string();
    const std::vector<std::string> available = voc_splits(root.string());
    fail("[voc] no split '", split, "': ", path.string(),
         " does not exist (splits here: ", available.empty() ? "none; try --split all" : join(available, ", "), ")");
}

}  // namespace

std::vector<std::string> voc_splits(const std::string& root) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path(root) / "ImageSets" / "Main", ec)) {
        const std::string stem = entry.path().stem().string();
        if (entry.path().extension() == ".txt" && stem.find('_') == std::string::npos) names.push_back(stem);
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string resolve_voc_root(const std::string& path, int year) {
    const fs::path dir(path);
    check(fs::is_directory(dir), "[voc] ", path, " is not a folder");
    if (fs::is_directory(dir / "Annotations")) {
        check(year == 0 || dir.filename().string() == "VOC" + std::to_string(year), "[voc] ", path,
              " is a dataset folder itself, so --year ", year, " does not apply");
        return dir.string();
    }
    const std::string name = "VOC" + std::to_string(year == 0 ? 2007 : year);
    for (const fs::path& base : {dir, dir / "VOCdevkit"}) {
        if (fs::is_directory(base / name / "Annotations")) return (base / name).string();
    }
    const fs::path listed = fs::is_directory(dir / "VOCdevkit") ? dir / "VOCdevkit" : dir;
    fail("[voc] ", path, " holds neither Annotations/ nor ", name,
         "/Annotations (VOC folders there: ", list_voc_folders(listed), year == 0 ? "; pick one with --year" : "", ")");
}

std::vector<std::string> read_split_file(const std::string& path, const std::string& source,
                                         std::vector<std::string>* skipped) {
    std::ifstream in(path, std::ios::binary);
    check(bool(in), "[voc] cannot read ", source);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    check(!in.bad(), "[voc] cannot read ", source);
    return parse_split_list(text, source, skipped);
}

std::vector<std::string> parse_split_list(std::string_view text, const std::string& source,
                                          std::vector<std::string>* skipped) {
    std::vector<std::string> ids;
    std::map<std::string, int> first_line;
    int number = 0;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t newline = std::min(text.find('\n', start), text.size());
        const std::string_view line = text.substr(start, newline - start);
        start = newline + 1;
        ++number;
        const auto begin = line.find_first_not_of(" \t\r");
        if (begin == std::string_view::npos) continue;
        const std::string id(line.substr(begin, line.find_first_of(" \t\r", begin) - begin));
        try {
            check(is_file_name(id), "[voc] ", source, " line ", number, ": '", id, "' is not an image id");
            const auto [it, fresh] = first_line.emplace(id, number);
            check(fresh, "[voc] ", source, " line ", number, ": duplicate id '", id, "' (first on line ", it->second,
                  ")");
            ids.push_back(id);
        } catch (const Error& e) {
            if (!skipped) throw;
            skipped->push_back(e.what());
        }
    }
    check(!ids.empty(), "[voc] ", source, " lists no image ids");
    return ids;
}

namespace {

// A split that names its year, "VOC2012/trainval" -> {2012, "trainval"}; else {0, split}.
// A file of ids that happens to be called so is taken as the file.
std::pair<int, std::string> split_year(const std::string& split) {
    const std::size_t slash = split.find('/');
    if (slash != 7 || split.rfind("VOC", 0) != 0 || fs::exists(split)) return {0, split};
    const std::string digits = split.substr(3, 4);
    if (!std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); })) return {0, split};
    return {std::stoi(digits), split.substr(slash + 1)};
}

}  // namespace

DatasetParts read_voc(const std::string& path, const DatasetOptions& options) {
    DatasetParts ds;
    const auto [year_of_split, split_name] = split_year(options.split);
    check(year_of_split == 0 || options.year == 0 || options.year == year_of_split, "[voc] --split ", options.split,
          " names its year, so --year ", options.year, " does not apply");
    ds.root = resolve_voc_root(path, year_of_split != 0 ? year_of_split : options.year);
    ds.split = options.split;
    const fs::path root(ds.root);
    const bool skip = options.skip_bad;

    std::vector<std::string> ids;
    if (split_name == "all") {
        ids = all_annotation_ids(root);
        check(!ids.empty(), "[voc] ", (root / "Annotations").string(), " holds no .xml files");
    } else {
        const std::string file = split_file(root, split_name);
        const std::string source = fs::relative(file, root).string();
        std::vector<std::string> dropped;
        ids = read_split_file(file, source, skip ? &dropped : nullptr);
        for (std::string& line : dropped) ds.warnings.push_back(line + " (line skipped)");
    }
    ds.classes = resolve_class_list("", ds.root, &ds.class_source);

    for (const std::string& id : ids) {
        const std::string source = "Annotations/" + id + ".xml";
        try {
            std::vector<std::string> dropped;
            Annotation a = read_voc_annotation((root / source).string(), skip ? &dropped : nullptr, source);
            a.id = id;
            a.source = source;
            for (std::string& line : dropped) ds.warnings.push_back(line + " (object skipped)");
            ds.skipped_objects += int(dropped.size());
            ds.image_paths.push_back(find_image(root, a));
            ds.items.push_back(std::move(a));
        } catch (const Error& e) {
            if (!skip) throw;
            ds.warnings.push_back(std::string(e.what()) + " (image skipped)");
            ++ds.skipped_images;
        }
    }
    return ds;
}

}  // namespace focal::data

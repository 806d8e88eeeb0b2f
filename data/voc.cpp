#include "data/voc.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

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
    return !id.empty() && id != "." && id != ".." && id.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos;
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
    std::vector<std::string> available;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(main, ec)) {
        const std::string stem = entry.path().stem().string();
        if (entry.path().extension() == ".txt" && stem.find('_') == std::string::npos) available.push_back(stem);
    }
    fail("[voc] no split '", split, "': ", path.string(),
         " does not exist (splits here: ", available.empty() ? "none; try --split all" : join(available, ", "), ")");
}

}  // namespace

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
         "/Annotations (VOC folders there: ", list_voc_folders(listed),
         year == 0 ? "; pick one with --year" : "", ")");
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
            check(fresh, "[voc] ", source, " line ", number, ": duplicate id '", id, "' (first on line ",
                  it->second, ")");
            ids.push_back(id);
        } catch (const Error& e) {
            if (!skipped) throw;
            skipped->push_back(e.what());
        }
    }
    check(!ids.empty(), "[voc] ", source, " lists no image ids");
    return ids;
}

VocDataset VocDataset::open(const std::string& path, const VocOptions& options) {
    VocDataset ds;
    ds.root_ = resolve_voc_root(path, options.year);
    ds.split_ = options.split;
    const fs::path root(ds.root_);
    const bool skip = options.skip_bad;

    std::vector<std::string> ids;
    if (options.split == "all") {
        ids = all_annotation_ids(root);
        check(!ids.empty(), "[voc] ", (root / "Annotations").string(), " holds no .xml files");
    } else {
        const std::string file = split_file(root, options.split);
        const std::string source = fs::relative(file, root).string();
        std::vector<std::string> dropped;
        ids = read_split_file(file, source, skip ? &dropped : nullptr);
        for (std::string& line : dropped) ds.warnings_.push_back(line + " (line skipped)");
    }
    ds.classes_ = resolve_class_list(options.classes, ds.root_, &ds.class_source_);

    for (const std::string& id : ids) {
        const std::string source = "Annotations/" + id + ".xml";
        try {
            std::vector<std::string> dropped;
            Annotation a = read_voc_annotation((root / source).string(), skip ? &dropped : nullptr, source);
            a.id = id;
            std::string image = find_image(root, a);
            check(fs::exists(image), "[voc] ", fs::relative(image, root).string(),
                  ": missing image (annotated by ", source, ")");
            if (options.check_images || a.width == 0 || a.height == 0) {
                const ImageHeader header =
                    options.check_images ? verify_image_file(image) : read_image_header(image);
                check(a.width == 0 || (a.width == header.width && a.height == header.height), "[voc] ",
                      fs::relative(image, root).string(), " is ", header.width, "x", header.height, " but ",
                      source, " says ", a.width, "x", a.height);
                a.width = header.width;
                a.height = header.height;
                std::erase_if(a.objects, [&](const Object& o) {
                    const std::string problem = box_problem(o.box, a.width, a.height);
                    if (problem.empty()) return false;
                    const std::string message = "[voc] " + source + " line " + std::to_string(o.line) +
                                                ": object '" + o.name + "': " + problem;
                    check(skip, message);
                    dropped.push_back(message);
                    return true;
                });
            }
            for (std::string& line : dropped) ds.warnings_.push_back(line + " (object skipped)");
            ds.skipped_objects_ += int(dropped.size());
            ds.items_.push_back(std::move(a));
            ds.image_paths_.push_back(std::move(image));
        } catch (const Error& e) {
            if (!skip) throw;
            ds.warnings_.push_back(std::string(e.what()) + " (image skipped)");
            ++ds.skipped_images_;
        }
    }

    if (options.classes == "auto") {
        std::set<std::string> names;
        for (const Annotation& a : ds.items_)
            for (const Object& o : a.objects) names.insert(o.name);
        ds.classes_.assign(names.begin(), names.end());
        check(!ds.classes_.empty(), "[voc] split '", ds.split_, "' holds no objects to collect classes from");
    }
    std::map<std::string, int> label_of;
    for (std::size_t k = 0; k < ds.classes_.size(); ++k) label_of[ds.classes_[k]] = int(k);
    for (Annotation& a : ds.items_) {
        std::erase_if(a.objects, [&](Object& o) {
            const auto it = label_of.find(o.name);
            if (it != label_of.end()) {
                o.label = it->second;
                return false;
            }
            const std::string message = "[voc] Annotations/" + a.id + ".xml line " + std::to_string(o.line) +
                                        ": unknown class '" + o.name + "' (classes: " + ds.class_source_ +
                                        "; --classes auto collects the names found)";
            check(skip, message);
            ds.warnings_.push_back(message + " (object skipped)");
            ++ds.skipped_objects_;
            return true;
        });
    }
    check(!ds.items_.empty(), "[voc] split '", ds.split_, "' of ", ds.root_, ": no usable images left");
    return ds;
}

std::string VocDataset::skip_summary() const {
    if (warnings_.empty()) return "";
    const std::size_t listed = items_.size() + std::size_t(skipped_images_);
    return "[voc] --skip-bad: skipped " + std::to_string(skipped_images_) + " of " + std::to_string(listed) +
           " images and " + std::to_string(skipped_objects_) + (skipped_objects_ == 1 ? " object" : " objects") +
           " (" + std::to_string(warnings_.size()) + (warnings_.size() == 1 ? " warning)" : " warnings)");
}

Image VocDataset::load_image(std::size_t i) const {
    const Annotation& a = items_.at(i);
    Image image = data::load_image(image_paths_[i]);
    check(image.width == a.width && image.height == a.height, "[voc] ", image_paths_[i], " is ", image.width,
          "x", image.height, " but Annotations/", a.id, ".xml says ", a.width, "x", a.height);
    return image;
}

}  // namespace focal::data

#include "data/dataset.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "data/coco.h"
#include "data/voc.h"
#include "data/yolo.h"
#include "engine/error.h"

namespace focal::data {
namespace fs = std::filesystem;

const char* format_name(DatasetFormat format) {
    switch (format) {
        case DatasetFormat::Voc: return "voc";
        case DatasetFormat::Coco: return "coco";
        case DatasetFormat::Yolo: return "yolo";
    }
    return "?";
}

DatasetFormat parse_format(const std::string& name) {
    for (DatasetFormat f : {DatasetFormat::Voc, DatasetFormat::Coco, DatasetFormat::Yolo})
        if (name == format_name(f)) return f;
    fail("[data] unknown format '", name, "'; known: voc, coco, yolo");
}

DatasetFormat detect_format(const std::string& path) {
    const fs::path p(path);
    if (fs::is_regular_file(p)) {
        if (p.extension() == ".json") return DatasetFormat::Coco;
        if (p.extension() == ".yaml" || p.extension() == ".yml") return DatasetFormat::Yolo;
        fail("[data] ", path, " is a file but neither a COCO .json nor a YOLO data.yaml");
    }
    check(fs::is_directory(p), "[data] ", path, " is not a folder");
    if (fs::is_directory(p / "Annotations")) return DatasetFormat::Voc;
    for (const fs::path& base : {p, p / "VOCdevkit"}) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(base, ec))
            if (entry.is_directory() && entry.path().filename().string().rfind("VOC", 0) == 0 &&
                fs::is_directory(entry.path() / "Annotations"))
                return DatasetFormat::Voc;
    }
    if (!find_coco_files(p.string()).empty()) return DatasetFormat::Coco;
    if (fs::is_regular_file(p / "data.yaml") || fs::is_directory(p / "labels")) return DatasetFormat::Yolo;
    fail("[data] ", path,
         " is in no format focal knows: no Annotations/ (VOC), no "
         "annotations/instances_*.json (COCO), no labels/ or data.yaml (YOLO); --format names one");
}

bool is_image_file(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

std::vector<std::string> list_images(const std::string& dir) {
    std::vector<std::string> paths;
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(dir, ec))
        if (entry.is_regular_file() && is_image_file(entry.path().string())) paths.push_back(entry.path().string());
    std::sort(paths.begin(), paths.end());
    return paths;
}

namespace {

std::string relative_to(const std::string& path, const std::string& root) {
    const std::string r = fs::path(path).lexically_relative(root).string();
    return r.empty() || r.rfind("..", 0) == 0 ? path : r;
}

DatasetParts read_split(const std::string& path, DatasetFormat format, const DatasetOptions& options) {
    return format == DatasetFormat::Voc    ? read_voc(path, options)
           : format == DatasetFormat::Coco ? read_coco(path, options)
                                           : read_yolo(path, options);
}

// A union of splits, "a+b" (VOC 07+12: "VOC2007/trainval+VOC2012/trainval"): each part read
// alone, then concatenated in order. The parts must share the format's class list, and an image
// may appear once. When the parts live in different folders, each annotation's source names
// its folder ("VOC2012/Annotations/x.xml"), so messages stay unambiguous.
DatasetParts read_union(const std::string& path, DatasetFormat format, const DatasetOptions& options,
                        const std::vector<std::string>& names) {
    const std::string tag = std::string("[") + format_name(format) + "] ";
    std::vector<DatasetParts> parts;
    for (const std::string& name : names) {
        check(!name.empty(), tag, "--split '", options.split, "': an empty part in a union of splits (a+b)");
        DatasetOptions one = options;
        one.split = name;
        parts.push_back(read_split(path, format, one));
    }
    bool one_root = true;
    for (const DatasetParts& p : parts) one_root = one_root && p.root == parts[0].root;

    DatasetParts all;
    all.root = parts[0].root;
    all.split = options.split;
    all.classes = parts[0].classes;
    all.class_source = parts[0].class_source;
    all.category_ids = parts[0].category_ids;
    std::map<std::string, std::string> split_of_image;
    for (std::size_t k = 0; k < parts.size(); ++k) {
        DatasetParts& p = parts[k];
        check(p.classes == all.classes, tag, "split '", names[k], "' has its own class list (", p.class_source,
              "), not split '", names[0], "''s (", all.class_source, "); --classes gives one for all");
        for (std::string& w : p.warnings) all.warnings.push_back(std::move(w));
        all.skipped_images += p.skipped_images;
        all.skipped_objects += p.skipped_objects;
        for (std::size_t i = 0; i < p.items.size(); ++i) {
            Annotation& a = p.items[i];
            if (!one_root) a.source = (fs::path(p.root).filename() / a.source).string();
            const auto [it, fresh] = split_of_image.emplace(fs::weakly_canonical(p.image_paths[i]).string(), names[k]);
            if (!fresh) {
                const std::string message =
                    tag + a.source + ": its image " + p.image_paths[i] + " is in split '" + it->second + "' too";
                check(options.skip_bad, message);
                all.warnings.push_back(message + " (image skipped)");
                ++all.skipped_images;
                continue;
            }
            all.items.push_back(std::move(a));
            all.image_paths.push_back(std::move(p.image_paths[i]));
        }
    }
    return all;
}

std::vector<std::string> split_union(const std::string& split) {
    std::vector<std::string> names;
    if (split.find('+') == std::string::npos || fs::exists(split)) return names;  // a file's name may hold '+'
    for (std::size_t start = 0;;) {
        const std::size_t plus = split.find('+', start);
        names.push_back(split.substr(start, plus - start));
        if (plus == std::string::npos) return names;
        start = plus + 1;
    }
}

}  // namespace

Dataset Dataset::open(const std::string& path, const DatasetOptions& options) {
    const DatasetFormat format = options.format.empty() ? detect_format(path) : parse_format(options.format);
    const std::vector<std::string> union_names = split_union(options.split);
    DatasetParts parts =
        union_names.empty() ? read_split(path, format, options) : read_union(path, format, options, union_names);
    const std::string tag = std::string("[") + format_name(format) + "] ";
    const bool skip = options.skip_bad;

    Dataset ds;
    ds.format_ = format;
    ds.root_ = parts.root;
    ds.split_ = parts.split;
    ds.warnings_ = std::move(parts.warnings);
    ds.skipped_images_ = parts.skipped_images;
    ds.skipped_objects_ = parts.skipped_objects;

    // The images: there, readable with check_images, and the annotated size.
    for (std::size_t i = 0; i < parts.items.size(); ++i) {
        Annotation& a = parts.items[i];
        const std::string& image = parts.image_paths[i];
        const std::string shown = relative_to(image, ds.root_);
        try {
            check(fs::exists(image), tag, shown, ": missing image (annotated by ", a.source, ")");
            std::vector<std::string> dropped;
            if (options.check_images || a.width == 0 || a.height == 0) {
                const ImageHeader header = options.check_images ? verify_image_file(image) : read_image_header(image);
                check(a.width == 0 || (a.width == header.width && a.height == header.height), tag, shown, " is ",
                      header.width, "x", header.height, " but ", a.source, " says ", a.width, "x", a.height);
                a.width = header.width;
                a.height = header.height;
                std::erase_if(a.objects, [&](const Object& o) {
                    const std::string problem = box_problem(o.box, a.width, a.height);
                    if (problem.empty()) return false;
                    const std::string message = tag + object_location(a, o) + ": object '" + o.name + "': " + problem;
                    check(skip, message);
                    dropped.push_back(message);
                    return true;
                });
            }
            for (std::string& line : dropped) ds.warnings_.push_back(line + " (object skipped)");
            ds.skipped_objects_ += int(dropped.size());
            ds.items_.push_back(std::move(a));
            ds.image_paths_.push_back(image);
        } catch (const Error& e) {
            if (!skip) throw;
            ds.warnings_.push_back(std::string(e.what()) + " (image skipped)");
            ++ds.skipped_images_;
        }
    }

    // The class list, then each object's label.
    if (options.classes.empty()) {
        ds.classes_ = parts.classes;
        ds.class_source_ = parts.class_source;
    } else {
        ds.classes_ = resolve_class_list(options.classes, ds.root_, &ds.class_source_);
    }
    if (options.classes == "auto") {
        std::set<std::string> names;
        for (const Annotation& a : ds.items_)
            for (const Object& o : a.objects) names.insert(o.name);
        ds.classes_.assign(names.begin(), names.end());
        check(!ds.classes_.empty(), tag, "split '", ds.split_, "' holds no objects to collect classes from");
    }
    check(!ds.classes_.empty(), tag, ds.root_, ": no class list (", ds.class_source_, "); --classes gives one");
    std::map<std::string, int> label_of;
    for (std::size_t k = 0; k < ds.classes_.size(); ++k) label_of[ds.classes_[k]] = int(k);
    for (Annotation& a : ds.items_) {
        std::erase_if(a.objects, [&](Object& o) {
            const auto it = label_of.find(o.name);
            if (it != label_of.end()) {
                o.label = it->second;
                return false;
            }
            const std::string message = tag + object_location(a, o) + ": unknown class '" + o.name +
                                        "' (classes: " + ds.class_source_ +
                                        "; --classes auto collects the names found)";
            check(skip, message);
            ds.warnings_.push_back(message + " (object skipped)");
            ++ds.skipped_objects_;
            return true;
        });
    }

    // COCO category ids: the dataset's own by name; label + 1 otherwise (and for new names).
    std::map<std::string, std::int64_t> own_id;
    for (std::size_t k = 0; k < parts.category_ids.size() && k < parts.classes.size(); ++k)
        own_id[parts.classes[k]] = parts.category_ids[k];
    std::int64_t next = 1;
    for (const auto& [name, id] : own_id) next = std::max(next, id + 1);
    for (std::size_t k = 0; k < ds.classes_.size(); ++k) {
        const auto it = own_id.find(ds.classes_[k]);
        ds.category_ids_.push_back(own_id.empty() ? std::int64_t(k) + 1 : it != own_id.end() ? it->second : next++);
    }
    check(!ds.items_.empty(), tag, "split '", ds.split_, "' of ", ds.root_, ": no usable images left");
    return ds;
}

std::string Dataset::skip_summary() const {
    if (warnings_.empty()) return "";
    const std::size_t listed = items_.size() + std::size_t(skipped_images_);
    return std::string("[") + format_name(format_) + "] --skip-bad: skipped " + std::to_string(skipped_images_) +
           " of " + std::to_string(listed) + " images and " + std::to_string(skipped_objects_) +
           (skipped_objects_ == 1 ? " object" : " objects") + " (" + std::to_string(warnings_.size()) +
           (warnings_.size() == 1 ? " warning)" : " warnings)");
}

Image Dataset::load_image(std::size_t i) const {
    const Annotation& a = items_.at(i);
    Image image = data::load_image(image_paths_[i]);
    check(image.width == a.width && image.height == a.height, "[", format_name(format_), "] ", image_paths_[i], " is ",
          image.width, "x", image.height, " but ", a.source, " says ", a.width, "x", a.height);
    return image;
}

std::vector<std::int64_t> coco_image_ids(const Dataset& ds) {
    std::vector<std::int64_t> ids;
    if (ds.format() == DatasetFormat::Coco) {
        for (std::size_t i = 0; i < ds.size(); ++i) ids.push_back(ds.annotation(i).coco_id);
        return ids;
    }
    std::vector<std::string> names;
    for (std::size_t i = 0; i < ds.size(); ++i) names.push_back(ds.annotation(i).id);
    return coco_image_ids(names);
}

std::vector<std::int64_t> coco_image_ids(const std::vector<std::string>& names) {
    std::vector<std::int64_t> ids;
    std::set<std::int64_t> seen;
    for (const std::string& id : names) {
        const bool decimal = !id.empty() && id.size() <= 18 &&
                             std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); });
        if (!decimal || !seen.insert(std::stoll(id)).second) {
            ids.clear();
            break;
        }
        ids.push_back(std::stoll(id));
    }
    if (ids.size() == names.size()) return ids;
    for (std::size_t i = 0; i < names.size(); ++i) ids.push_back(std::int64_t(i) + 1);
    return ids;
}

}  // namespace focal::data

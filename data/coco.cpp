#include "data/coco.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace focal::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A field of an entry, checked for its type; `where` names the entry in messages.
const json& field(const json& entry, const char* key, const std::string& where) {
    const auto it = entry.find(key);
    check(it != entry.end(), where, ": no \"", key, "\"");
    return *it;
}

std::int64_t integer(const json& entry, const char* key, const std::string& where) {
    const json& v = field(entry, key, where);
    if (v.is_number_integer()) return v.get<std::int64_t>();
    // Some exporters write ids as 7.0; a whole float is accepted.
    check(v.is_number_float() && std::isfinite(v.get<double>()) && v.get<double>() == std::floor(v.get<double>()) &&
              std::fabs(v.get<double>()) < 9e15,
          where, ": \"", key, "\" is not an integer (", v.dump().substr(0, 40), ")");
    return std::int64_t(v.get<double>());
}

double number(const json& v, const std::string& what, const std::string& where) {
    check(v.is_number() && std::isfinite(v.get<double>()), where, ": ", what, " is not a finite number (",
          v.dump().substr(0, 40), ")");
    return v.get<double>();
}

// The double nearest the float's shortest decimal form: 12.3f is written "12.3", not
// "12.300000190734863", and still reads back as the same float.
double tidy(double v) {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, float(v));
    double out = v;
    if (ec == std::errc()) std::from_chars(buffer, end, out);
    return out;
}

std::string stem_of(const std::string& file_name) {
    const fs::path p(file_name);
    return (p.parent_path() / p.stem()).generic_string();
}

}  // namespace

CocoFile parse_coco(std::string_view text, const std::string& source, bool skip_bad) {
    json doc;
    try {
        doc = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
        fail("[coco] ", source, ": not valid JSON (", e.what(), ")");
    }
    const std::string at = "[coco] " + source;
    check(doc.is_object(), at, ": the top level is not a JSON object");
    for (const char* key : {"images", "annotations", "categories"})
        check(doc.contains(key) && doc[key].is_array(), at, ": no \"", key, "\" array");

    CocoFile file;
    // Calls read(entry, where) on each entry of the array doc[key]; `where` names the entry in
    // messages ("[coco] FILE images[3]") and `read` may make it more precise. A bad entry
    // throws, or, with skip_bad and a `skipped` counter, is counted and noted in file.warnings.
    const auto for_each_entry = [&](const char* key, const char* what, int* skipped, auto&& read) {
        const json& entries = doc[key];
        for (std::size_t i = 0; i < entries.size(); ++i) {
            std::string where = at + " " + key + "[" + std::to_string(i) + "]";
            try {
                check(entries[i].is_object(), where, ": not an object");
                read(entries[i], where);
            } catch (const Error& err) {
                if (!skip_bad || !skipped) throw;
                file.warnings.push_back(std::string(err.what()) + " (" + what + " skipped)");
                ++*skipped;
            }
        }
    };

    // Categories, sorted by id: the class list. A bad category is the file's fault: it throws.
    std::map<std::int64_t, std::string> categories;
    std::set<std::string> names;
    for_each_entry("categories", "category", nullptr, [&](const json& c, const std::string& where) {
        const std::int64_t id = integer(c, "id", where);
        const json& name = field(c, "name", where);
        check(name.is_string() && !name.get<std::string>().empty(), where, ": \"name\" is not a non-empty string");
        check(categories.emplace(id, name.get<std::string>()).second, where, ": duplicate category id ", id);
        check(names.insert(name.get<std::string>()).second, where, ": duplicate category name '",
              name.get<std::string>(), "'");
    });
    for (const auto& [id, name] : categories) {
        file.category_ids.push_back(id);
        file.classes.push_back(name);
    }

    std::map<std::int64_t, std::size_t> image_of;  // COCO id -> index into file.images
    std::set<std::string> file_names;
    for_each_entry("images", "image", &file.skipped_images, [&](const json& e, std::string& where) {
        Annotation a;
        a.coco_id = integer(e, "id", where);
        where += " (id " + std::to_string(a.coco_id) + ")";
        const json& name = field(e, "file_name", where);
        check(name.is_string() && !name.get<std::string>().empty(), where, ": \"file_name\" is not a non-empty string");
        a.filename = name.get<std::string>();
        check(a.filename.find("..") == std::string::npos && a.filename.front() != '/', where, ": file_name '",
              a.filename, "' leaves the image folder");
        a.id = stem_of(a.filename);
        for (const char* key : {"width", "height"}) {
            if (!e.contains(key)) continue;  // read from the image header then
            const std::int64_t v = integer(e, key, where);
            check(v > 0 && v <= kMaxImageSide, where, ": \"", key, "\" ", v, " is not an image size");
            (key[0] == 'w' ? a.width : a.height) = int(v);
        }
        check((a.width > 0) == (a.height > 0), where, ": has \"", a.width > 0 ? "width" : "height", "\" but not \"",
              a.width > 0 ? "height" : "width", "\" (both, or neither to read the image's)");
        a.source = source;
        check(!image_of.count(a.coco_id), where, ": duplicate image id ", a.coco_id);
        check(file_names.insert(a.filename).second, where, ": duplicate file_name '", a.filename, "'");
        image_of[a.coco_id] = file.images.size();
        file.images.push_back(std::move(a));
    });

    for_each_entry("annotations", "annotation", &file.skipped_objects, [&](const json& e, std::string& where) {
        Object o;
        o.annotation_id = integer(e, "id", where);
        where = at + " annotation id " + std::to_string(o.annotation_id);
        const std::int64_t image_id = integer(e, "image_id", where);
        const auto image = image_of.find(image_id);
        check(image != image_of.end(), where, ": unknown image_id ", image_id);
        const std::int64_t category_id = integer(e, "category_id", where);
        const auto category = categories.find(category_id);
        check(category != categories.end(), where, ": unknown category_id ", category_id);
        o.name = category->second;
        const json& bbox = field(e, "bbox", where);
        check(bbox.is_array() && bbox.size() == 4, where, ": \"bbox\" is not [x, y, w, h]");
        double v[4];
        for (int k = 0; k < 4; ++k) v[k] = number(bbox[std::size_t(k)], "a bbox value", where);
        check(v[2] > 0 && v[3] > 0, where, ": empty box (w ", v[2], ", h ", v[3], ")");
        Annotation& a = file.images[image->second];
        const double w = a.width > 0 ? a.width : kMaxImageSide, h = a.height > 0 ? a.height : kMaxImageSide;
        check(v[0] >= -kCocoOverrun && v[1] >= -kCocoOverrun && v[0] + v[2] <= w + kCocoOverrun &&
                  v[1] + v[3] <= h + kCocoOverrun,
              where, ": box [", v[0], ", ", v[1], ", ", v[2], ", ", v[3], "] lies outside the ", a.width, "x", a.height,
              " image ", a.filename);
        o.box = clip(from_coco(v[0], v[1], v[2], v[3]), float(w), float(h));
        check(o.box.valid(), where, ": the box is empty once clipped to the image");
        if (e.contains("iscrowd")) o.difficult = integer(e, "iscrowd", where) != 0;
        if (e.contains("truncated")) o.truncated = integer(e, "truncated", where) != 0;  // focal's convert
        if (e.contains("area")) o.area = float(number(e["area"], "\"area\"", where));
        a.objects.push_back(std::move(o));
    });
    return file;
}

std::vector<std::pair<std::string, std::string>> find_coco_files(const std::string& dir) {
    std::vector<std::pair<std::string, std::string>> found;
    for (const fs::path& base : {fs::path(dir) / "annotations", fs::path(dir)}) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(base, ec)) {
            const std::string name = entry.path().filename().string();
            if (entry.is_regular_file() && name.rfind("instances_", 0) == 0 && entry.path().extension() == ".json")
                found.emplace_back(name.substr(10, name.size() - 15), entry.path().string());
        }
    }
    std::sort(found.begin(), found.end());
    return found;
}

namespace {

CocoFile read_coco_file(const std::string& path, const std::string& source, bool skip_bad) {
    std::ifstream in(path, std::ios::binary);
    check(bool(in), "[coco] ", source, ": ", fs::exists(path) ? "cannot read it" : "no such file");
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    check(!in.bad(), "[coco] ", source, ": read error");
    return parse_coco(text, source, skip_bad);
}

// The folder the file_names are relative to (see coco.h).
fs::path image_folder(const fs::path& root, const std::string& split, const std::vector<Annotation>& images) {
    const std::vector<fs::path> candidates = {root / "images" / split, root / split, root / "images", root};
    for (const fs::path& dir : candidates)
        if (!images.empty() && fs::exists(dir / images.front().filename)) return dir;
    for (const fs::path& dir : candidates)
        if (fs::is_directory(dir) && !split.empty()) return dir;
    return root;
}

}  // namespace

DatasetParts read_coco(const std::string& path, const DatasetOptions& options) {
    DatasetParts ds;
    std::vector<std::pair<std::string, std::string>> files;  // (split, json path)
    if (fs::is_regular_file(path)) {
        const fs::path file(path);
        fs::path root = file.parent_path();
        if (root.filename() == "annotations") root = root.parent_path();
        ds.root = root.empty() ? "." : root.string();
        std::string split = file.stem().string();
        if (split.rfind("instances_", 0) == 0) split = split.substr(10);
        files.emplace_back(split, path);
        ds.split = split;
    } else {
        check(fs::is_directory(path), "[coco] ", path, " is not a folder or a .json file");
        ds.root = path;
        ds.split = options.split;
        const auto all = find_coco_files(path);
        check(!all.empty(), "[coco] ", path, " holds no annotations/instances_*.json");
        for (const auto& [split, file] : all)
            if (options.split == "all" || options.split == split) files.emplace_back(split, file);
        if (files.empty()) {
            std::string available;
            for (const auto& f : all) available += (available.empty() ? "" : ", ") + f.first;
            fail("[coco] no split '", options.split, "' in ", path, ": no instances_", options.split,
                 ".json (splits here: ", available, "; or --split all)");
        }
    }

    const fs::path root(ds.root);
    std::map<std::string, std::size_t> by_file_name;  // merging splits: the first file wins
    std::map<std::string, std::int64_t> category_of;
    for (const auto& [split, json_path] : files) {
        const std::string source = fs::path(json_path).lexically_relative(root).generic_string();
        CocoFile f = read_coco_file(json_path, source, options.skip_bad);
        for (std::size_t k = 0; k < f.classes.size(); ++k) {
            const auto [it, fresh] = category_of.emplace(f.classes[k], f.category_ids[k]);
            check(it->second == f.category_ids[k], "[coco] ", source, ": category '", f.classes[k], "' has id ",
                  f.category_ids[k], " but ", it->second, " in another split");
            if (fresh) ds.classes.push_back(f.classes[k]), ds.category_ids.push_back(f.category_ids[k]);
        }
        ds.warnings.insert(ds.warnings.end(), f.warnings.begin(), f.warnings.end());
        ds.skipped_images += f.skipped_images;
        ds.skipped_objects += f.skipped_objects;
        const fs::path images = image_folder(root, split, f.images);
        for (Annotation& a : f.images) {
            const auto [it, fresh] = by_file_name.emplace(a.filename, ds.items.size());
            if (!fresh) {
                const Annotation& first = ds.items[it->second];
                check(first.width == a.width && first.height == a.height, "[coco] ", source, ": image '", a.filename,
                      "' is ", a.width, "x", a.height, " but ", first.source, " says ", first.width, "x", first.height);
                continue;
            }
            ds.image_paths.push_back((images / a.filename).string());
            ds.items.push_back(std::move(a));
        }
    }
    // Categories in id order, whichever file listed them first.
    std::vector<std::size_t> order(ds.classes.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return ds.category_ids[a] < ds.category_ids[b]; });
    std::vector<std::string> classes;
    std::vector<std::int64_t> ids;
    for (std::size_t k : order) classes.push_back(ds.classes[k]), ids.push_back(ds.category_ids[k]);
    ds.classes = std::move(classes);
    ds.category_ids = std::move(ids);
    ds.class_source = "the COCO categories (" + std::to_string(ds.classes.size()) + " classes)";
    return ds;
}

std::string write_coco_json(const std::vector<Annotation>& images, const std::vector<std::string>& file_names,
                            const std::vector<std::int64_t>& image_ids, const std::vector<std::string>& classes,
                            const std::vector<std::int64_t>& category_ids) {
    check(images.size() == file_names.size() && images.size() == image_ids.size() &&
              classes.size() == category_ids.size(),
          "[coco] write_coco_json: ", images.size(), " images, ", file_names.size(), " file names, ", image_ids.size(),
          " ids; ", classes.size(), " classes, ", category_ids.size(), " category ids");
    json out = {{"images", json::array()}, {"annotations", json::array()}, {"categories", json::array()}};
    for (std::size_t k = 0; k < classes.size(); ++k)
        out["categories"].push_back({{"id", category_ids[k]}, {"name", classes[k]}, {"supercategory", "none"}});
    std::int64_t next_id = 1;
    for (std::size_t i = 0; i < images.size(); ++i) {
        const Annotation& a = images[i];
        out["images"].push_back(
            {{"id", image_ids[i]}, {"file_name", file_names[i]}, {"width", a.width}, {"height", a.height}});
        for (const Object& o : a.objects) {
            check(o.label >= 0 && std::size_t(o.label) < classes.size(),
                  "[coco] write_coco_json: ", object_location(a, o), " has label ", o.label, " outside the ",
                  classes.size(), " classes");
            const std::array<double, 4> b = to_coco(o.box);
            json entry = {{"id", next_id++},
                          {"image_id", image_ids[i]},
                          {"category_id", category_ids[std::size_t(o.label)]},
                          {"bbox", {tidy(b[0]), tidy(b[1]), tidy(b[2]), tidy(b[3])}},
                          {"area", tidy(o.area >= 0 ? double(o.area) : b[2] * b[3])},
                          {"iscrowd", o.difficult ? 1 : 0}};
            if (o.truncated) entry["truncated"] = 1;
            out["annotations"].push_back(std::move(entry));
        }
    }
    return out.dump() + "\n";
}

}  // namespace focal::data

#include "data/yolo.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "data/voc.h"
#include "engine/error.h"

namespace focal::data {
namespace fs = std::filesystem;

namespace {

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

bool parse_double(std::string_view text, double& value) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size() && !text.empty() && std::isfinite(value);
}

std::string read_text(const std::string& path, const std::string& source) {
    std::ifstream in(path, std::ios::binary);
    check(bool(in), "[yolo] ", source, ": ", fs::exists(path) ? "cannot read it" : "no such file");
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    check(!in.bad(), "[yolo] ", source, ": read error");
    return text;
}

// Calls f(line_number, line) for each line (CRLF accepted).
template <class F>
void for_each_line(std::string_view text, F&& f) {
    int number = 0;
    while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        f(++number, text.substr(0, end));
        text.remove_prefix(std::min(end + 1, text.size()));
    }
}

}  // namespace

std::vector<Object> parse_yolo_labels(std::string_view text, const std::string& source,
                                      const std::vector<std::string>& names, int width, int height,
                                      std::vector<std::string>* skipped) {
    std::vector<Object> objects;
    for_each_line(text, [&](int number, std::string_view line) {
        line = trim(line);
        if (line.empty()) return;
        const std::string at = "[yolo] " + source + " line " + std::to_string(number);
        try {
            std::vector<std::string_view> tokens;
            while (!line.empty()) {
                const std::size_t end = std::min(line.find_first_of(" \t"), line.size());
                tokens.push_back(line.substr(0, end));
                line = trim(line.substr(end));
            }
            check(tokens.size() == 5, at, ": ", tokens.size(), tokens.size() == 1 ? " value" : " values",
                  ", expected 5 (class cx cy w h)");
            double v[5];
            for (int k = 0; k < 5; ++k)
                check(parse_double(tokens[std::size_t(k)], v[k]), at, ": '",
                      std::string(tokens[std::size_t(k)]).substr(0, 40), "' is not a number");
            check(v[0] >= 0 && v[0] == std::floor(v[0]), at, ": class ", v[0], " is not an index");
            check(v[0] < double(names.size()), at, ": class ", v[0], " is beyond the ", names.size(), " class names");
            check(v[3] > 0 && v[4] > 0, at, ": empty box (w ", v[3], ", h ", v[4], ")");
            const double x1 = v[1] - v[3] / 2, y1 = v[2] - v[4] / 2, x2 = v[1] + v[3] / 2, y2 = v[2] + v[4] / 2;
            check(x1 >= -kYoloOverrun && y1 >= -kYoloOverrun && x2 <= 1 + kYoloOverrun && y2 <= 1 + kYoloOverrun, at,
                  ": box (cx ", v[1], ", cy ", v[2], ", w ", v[3], ", h ", v[4], ") lies outside the image");
            Object o;
            o.name = names[std::size_t(v[0])];
            o.line = number;
            o.box = clip(from_yolo(v[1], v[2], v[3], v[4], width, height), float(width), float(height));
            check(o.box.valid(), at, ": the box is empty in the ", width, "x", height, " image");
            objects.push_back(std::move(o));
        } catch (const Error& e) {
            if (!skipped) throw;
            skipped->push_back(e.what());
        }
    });
    return objects;
}

std::string write_yolo_labels(const std::vector<Object>& objects, int width, int height) {
    // Up to 8 decimals, trailing zeros dropped: "0.5", "0.12345678" (within 2e-4 px of the box
    // on the largest image, well inside kYoloSnapPixels).
    const auto format = [](double v) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.8f", v);
        std::string s = buffer;
        s.erase(s.find_last_not_of('0') + 1);
        if (s.back() == '.') s.pop_back();
        return s == "-0" ? std::string("0") : s;
    };
    std::string out;
    for (const Object& o : objects) {
        check(o.label >= 0, "[yolo] write_yolo_labels: object '", o.name, "' has no label");
        const std::array<double, 4> v = to_yolo(o.box, width, height);
        out += std::to_string(o.label) + " " + format(v[0]) + " " + format(v[1]) + " " + format(v[2]) + " " +
               format(v[3]) + "\n";
    }
    return out;
}

namespace {

// A scalar: quotes removed ('' inside single quotes is a quote; \" and \\ inside double).
std::string yaml_scalar(std::string_view v, const std::string& at) {
    v = trim(v);
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') {
        std::string out;
        for (std::size_t i = 1; i + 1 < v.size(); ++i) {
            out += v[i];
            if (v[i] == '\'') ++i;  // ''
        }
        return out;
    }
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        std::string out;
        for (std::size_t i = 1; i + 1 < v.size(); ++i) out += (v[i] == '\\' && i + 2 < v.size()) ? v[++i] : v[i];
        return out;
    }
    check(v.empty() || (v.front() != '\'' && v.front() != '"' && v.front() != '{' && v.front() != '[' &&
                        v.front() != '&' && v.front() != '*' && v.front() != '|' && v.front() != '>'),
          at, ": '", std::string(v).substr(0, 40), "' is beyond the YAML subset read here (data/yolo.h)");
    return std::string(v);
}

// The first position at or after `from` that is outside quotes and where `stops(i)` holds;
// the line's length if there is none. Quotes are YAML's: '...' verbatim, "..." with \" escapes.
template <class Stops>
std::size_t first_unquoted(std::string_view line, std::size_t from, Stops stops) {
    char quote = 0;
    for (std::size_t i = from; i < line.size(); ++i) {
        if (quote) {
            if (quote == '"' && line[i] == '\\') ++i;  // \" inside double quotes
            else if (line[i] == quote) quote = 0;
        } else if (line[i] == '\'' || line[i] == '"') {
            quote = line[i];
        } else if (stops(i)) {
            return i;
        }
    }
    return line.size();
}

// The text before a '#' that starts a comment: outside quotes, at the start or after a blank.
std::string_view strip_comment(std::string_view line) {
    return line.substr(0, first_unquoted(line, 0, [&](std::size_t i) {
                           return line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t');
                       }));
}

// Splits "a, 'b, c', d" at the commas outside quotes.
std::vector<std::string_view> split_flow(std::string_view s) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t comma = first_unquoted(s, start, [&](std::size_t i) { return s[i] == ','; });
        const std::string_view part = s.substr(start, comma - start);
        if (comma < s.size() || !trim(part).empty()) parts.push_back(part);  // "a, b," has two parts
        if (comma == s.size()) return parts;
        start = comma + 1;
    }
}

// The colon that ends a key: the first ": " or a final ':' outside quotes.
std::size_t key_colon(std::string_view line) {
    const std::size_t colon = first_unquoted(line, 0, [&](std::size_t i) {
        return line[i] == ':' && (i + 1 == line.size() || line[i + 1] == ' ' || line[i + 1] == '\t');
    });
    return colon == line.size() ? std::string_view::npos : colon;
}

// Integer keys 0..n-1 (in any order) -> a list.
std::vector<std::string> mapping_to_list(const std::vector<std::pair<std::string, std::string>>& entries,
                                         const std::string& at) {
    std::vector<std::string> list(entries.size());
    std::vector<bool> seen(entries.size(), false);
    for (const auto& [key, value] : entries) {
        double k = -1;
        check(parse_double(key, k) && k >= 0 && k == std::floor(k) && k < double(entries.size()) &&
                  !seen[std::size_t(k)],
              at, ": mapping key '", key.substr(0, 40), "' is not one of 0..", entries.size() - 1,
              " (each once): names must be indices 0..n-1");
        seen[std::size_t(k)] = true;
        list[std::size_t(k)] = value;
    }
    return list;
}

}  // namespace

YamlSubset parse_yaml_subset(std::string_view text, const std::string& source) {
    YamlSubset out;
    std::string open_key;  // a top-level key whose value is the indented lines below it
    int open_line = 0;
    std::vector<std::string> block_list;
    std::vector<std::pair<std::string, std::string>> block_map;
    const auto close_block = [&] {
        if (open_key.empty()) return;
        const std::string at = "[yolo] " + source + " line " + std::to_string(open_line);
        if (!block_map.empty()) out.lists[open_key] = mapping_to_list(block_map, at);
        else if (!block_list.empty()) out.lists[open_key] = block_list;
        else out.scalars[open_key] = "";
        open_key.clear(), block_list.clear(), block_map.clear();
    };
    for_each_line(text, [&](int number, std::string_view raw) {
        const std::string at = "[yolo] " + source + " line " + std::to_string(number);
        const std::string_view line = strip_comment(raw);
        if (trim(line).empty() || trim(line) == "---") return;
        const bool indented = line.front() == ' ' || line.front() == '\t';
        const std::string_view body = trim(line);
        if (indented) {
            check(!open_key.empty(), at, ": an indented line outside a list or mapping");
            if (body.front() == '-') {
                check(block_map.empty(), at, ": a '- item' inside a mapping");
                block_list.push_back(yaml_scalar(body.substr(1), at));
            } else {
                const std::size_t colon = key_colon(body);
                check(colon != std::string_view::npos && block_list.empty(), at,
                      ": expected '- name' or 'index: name' under '", open_key, ":'");
                block_map.emplace_back(yaml_scalar(body.substr(0, colon), at), yaml_scalar(body.substr(colon + 1), at));
            }
            return;
        }
        close_block();
        const std::size_t colon = key_colon(body);
        check(colon != std::string_view::npos, at, ": expected 'key: value'");
        const std::string key = yaml_scalar(body.substr(0, colon), at);
        const std::string_view value = trim(body.substr(colon + 1));
        check(!out.scalars.count(key) && !out.lists.count(key), at, ": key '", key, "' appears twice");
        if (value.empty()) {
            open_key = key;
            open_line = number;
        } else if (value.front() == '[') {
            check(value.back() == ']', at, ": a flow list must end on its line with ']'");
            std::vector<std::string> list;
            for (std::string_view part : split_flow(value.substr(1, value.size() - 2)))
                list.push_back(yaml_scalar(part, at));
            out.lists[key] = list;
        } else if (value.front() == '{') {
            check(value.back() == '}', at, ": a flow mapping must end on its line with '}'");
            std::vector<std::pair<std::string, std::string>> entries;
            for (std::string_view part : split_flow(value.substr(1, value.size() - 2))) {
                part = trim(part);
                std::size_t c = key_colon(part);
                if (c == std::string_view::npos) c = part.find(':');
                check(c != std::string_view::npos, at, ": '", std::string(part).substr(0, 40), "' is not 'key: value'");
                entries.emplace_back(yaml_scalar(part.substr(0, c), at), yaml_scalar(part.substr(c + 1), at));
            }
            out.lists[key] = mapping_to_list(entries, at);
        } else {
            out.scalars[key] = yaml_scalar(value, at);
        }
    });
    close_block();
    return out;
}

std::string yolo_label_path(const std::string& image_path) {
    fs::path p(image_path);
    std::vector<fs::path> parts(p.begin(), p.end());
    for (std::size_t i = parts.size(); i-- > 1;) {
        if (parts[i - 1] != "images") continue;
        parts[i - 1] = "labels";
        fs::path out;
        for (const fs::path& part : parts) out /= part;
        return out.replace_extension(".txt").string();
    }
    fail("[yolo] ", image_path, " is not under an 'images' folder, so it has no labels/ file");
}

namespace {

struct Layout {
    fs::path root;
    std::string yaml_source;  // "" when there is no data.yaml
    YamlSubset yaml;
};

Layout open_layout(const std::string& path) {
    Layout l;
    fs::path yaml;
    if (fs::is_regular_file(path)) {
        yaml = path;
        l.root = yaml.parent_path().empty() ? fs::path(".") : yaml.parent_path();
    } else {
        check(fs::is_directory(path), "[yolo] ", path, " is not a folder or a data.yaml");
        l.root = path;
        for (const char* name : {"data.yaml", "data.yml"})
            if (fs::is_regular_file(l.root / name)) yaml = l.root / name;
    }
    if (!yaml.empty()) {
        l.yaml_source = yaml.filename().string();
        l.yaml = parse_yaml_subset(read_text(yaml.string(), l.yaml_source), l.yaml_source);
        // `path:` moves the root, relative to the yaml's folder (Ultralytics' rule).
        if (const auto it = l.yaml.scalars.find("path"); it != l.yaml.scalars.end() && !it->second.empty())
            l.root = fs::path(it->second).is_absolute() ? fs::path(it->second) : yaml.parent_path() / it->second;
    }
    return l;
}

std::vector<std::string> class_names(const Layout& l, const DatasetOptions& options, std::string& source) {
    if (const auto it = l.yaml.lists.find("names"); it != l.yaml.lists.end()) {
        source = l.yaml_source + " (" + std::to_string(it->second.size()) + " classes)";
        if (const auto nc = l.yaml.scalars.find("nc"); nc != l.yaml.scalars.end())
            check(nc->second == std::to_string(it->second.size()), "[yolo] ", l.yaml_source, ": nc is ", nc->second,
                  " but names lists ", it->second.size());
        return it->second;
    }
    if (fs::is_regular_file(l.root / "classes.txt")) return resolve_class_list("", l.root.string(), &source);
    if (!options.classes.empty() && options.classes != "auto" && options.classes != "voc")
        return resolve_class_list(options.classes, l.root.string(), &source);
    fail("[yolo] ", l.root.string(), ": no class names (data.yaml's names, classes.txt, or --classes a,b,c)");
}

std::vector<std::string> split_names(const Layout& l) {
    std::set<std::string> names;
    for (const char* key : {"train", "val", "test"})
        if (l.yaml.scalars.count(key) && !l.yaml.scalars.at(key).empty()) names.insert(key);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(l.root / "images", ec))
        if (e.is_directory()) names.insert(e.path().filename().string());
    for (const auto& e : fs::directory_iterator(l.root, ec))
        if (e.path().extension() == ".txt" && e.path().filename() != "classes.txt")
            names.insert(e.path().stem().string());
    return {names.begin(), names.end()};
}

// The images of split `split`, and where they were listed (for messages).
std::vector<std::string> split_images(const Layout& l, const std::string& split, std::vector<std::string>& warnings,
                                      bool skip, std::string& listed_in) {
    fs::path where;
    if (split == "all") {
        where = l.root / "images";
    } else if (const auto it = l.yaml.scalars.find(split); it != l.yaml.scalars.end() && !it->second.empty()) {
        where = l.root / it->second;
    } else if (fs::is_directory(l.root / "images" / split)) {
        where = l.root / "images" / split;
    } else if (split.ends_with(".txt") && fs::is_regular_file(split)) {
        where = split;
    } else if (fs::is_regular_file(l.root / (split + ".txt"))) {
        where = l.root / (split + ".txt");
    } else {
        std::string available;
        for (const std::string& n : split_names(l)) available += (available.empty() ? "" : ", ") + n;
        fail("[yolo] no split '", split, "' in ", l.root.string(),
             " (splits here: ", available.empty() ? "none; try --split all" : available, ")");
    }
    listed_in = where.lexically_relative(l.root).generic_string();
    if (fs::is_directory(where)) {
        std::vector<std::string> images = list_images(where.string());
        check(!images.empty(), "[yolo] ", listed_in, " holds no images");
        return images;
    }
    std::vector<std::string> images;
    for_each_line(read_text(where.string(), listed_in), [&](int number, std::string_view line) {
        line = trim(line);
        if (line.empty()) return;
        std::string entry(line);
        if (entry.rfind("./", 0) == 0) entry = entry.substr(2);
        const fs::path image = fs::path(entry).is_absolute() ? fs::path(entry) : where.parent_path() / entry;
        if (fs::exists(image)) {
            images.push_back(image.string());
            return;
        }
        const std::string message =
            "[yolo] " + listed_in + " line " + std::to_string(number) + ": missing image " + std::string(line);
        check(skip, message);
        warnings.push_back(message + " (line skipped)");
    });
    check(!images.empty(), "[yolo] ", listed_in, " lists no images");
    return images;
}

}  // namespace

std::vector<std::string> yolo_splits(const std::string& path) { return split_names(open_layout(path)); }

DatasetParts read_yolo(const std::string& path, const DatasetOptions& options) {
    const Layout l = open_layout(path);
    DatasetParts ds;
    ds.root = l.root.string();
    ds.split = options.split;
    ds.classes = class_names(l, options, ds.class_source);
    const bool skip = options.skip_bad;
    std::string listed_in;
    const std::vector<std::string> images = split_images(l, options.split, ds.warnings, skip, listed_in);

    std::set<std::string> label_files;
    for (const std::string& image : images) {
        const std::string image_rel = fs::path(image).lexically_relative(l.root).generic_string();
        try {
            const std::string label = yolo_label_path(image);
            label_files.insert(fs::path(label).lexically_normal().string());
            Annotation a;
            a.source = fs::path(label).lexically_relative(l.root).generic_string();
            a.filename = fs::path(image).filename().string();
            const fs::path rel = fs::path(image_rel);
            a.id = (rel.parent_path() / rel.stem()).generic_string();
            if (a.id.rfind("images/", 0) == 0) a.id = a.id.substr(7);
            const ImageHeader header = read_image_header(image);
            a.width = header.width;
            a.height = header.height;
            std::vector<std::string> dropped;
            for (const std::string& file : {label, fs::path(label).replace_extension(".ignore.txt").string()}) {
                if (!fs::exists(file)) continue;  // no labels: a background image
                const std::string source = fs::path(file).lexically_relative(l.root).generic_string();
                std::vector<Object> objects = parse_yolo_labels(read_text(file, source), source, ds.classes, a.width,
                                                                a.height, skip ? &dropped : nullptr);
                for (Object& o : objects) {
                    o.difficult = file != label;
                    a.objects.push_back(std::move(o));
                }
            }
            for (std::string& line : dropped) ds.warnings.push_back(line + " (object skipped)");
            ds.skipped_objects += int(dropped.size());
            ds.items.push_back(std::move(a));
            ds.image_paths.push_back(image);
        } catch (const Error& e) {
            if (!skip) throw;
            ds.warnings.push_back(std::string(e.what()) + " (image skipped)");
            ++ds.skipped_images;
        }
    }

    // With a folder of images, a label file without its image is a missing image.
    if (!images.empty() && !listed_in.ends_with(".txt")) {
        const fs::path labels = yolo_label_path((l.root / listed_in / "x.jpg").string());
        std::error_code ec;
        for (const auto& e : fs::recursive_directory_iterator(labels.parent_path(), ec)) {
            const std::string name = e.path().filename().string();
            if (!e.is_regular_file() || e.path().extension() != ".txt" || name == "classes.txt") continue;
            fs::path plain = e.path();
            if (name.ends_with(".ignore.txt"))
                plain = e.path().parent_path() / (name.substr(0, name.size() - 11) + ".txt");
            if (label_files.count(plain.lexically_normal().string())) continue;
            const std::string message = "[yolo] " + e.path().lexically_relative(l.root).generic_string() +
                                        ": missing image (no image of that name under " + listed_in + ")";
            check(skip, message);
            ds.warnings.push_back(message + " (file skipped)");
        }
    }
    return ds;
}

}  // namespace focal::data

#include "data/voc_annotation.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <pugixml.hpp>

#include "data/image.h"
#include "engine/error.h"

namespace focal::data {
namespace {

// Coordinates beyond this are no image's and would overflow a float; refused as implausible.
constexpr double kMaxCoordinate = 1e6;

int line_of(std::string_view text, std::ptrdiff_t offset) {
    if (offset < 0) return 0;
    const auto end = text.begin() + std::min<std::ptrdiff_t>(offset, std::ptrdiff_t(text.size()));
    return 1 + int(std::count(text.begin(), end, '\n'));
}

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

bool parse_number(std::string_view text, double& value) {
    text = trim(text);
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size() && !text.empty() && std::isfinite(value);
}

// Reads the parts of one file, with its name and text at hand for messages.
class Parser {
public:
    Parser(std::string_view xml, const std::string& source) : xml_(xml), source_(source) {}

    std::string at(const pugi::xml_node& node) const {
        return "[voc] " + source_ + " line " + std::to_string(line_of(xml_, node.offset_debug()));
    }

    // <tag> under `parent` as a number; throws Error naming the file, line and value.
    double number(const pugi::xml_node& parent, const char* tag) const {
        const pugi::xml_node node = parent.child(tag);
        check(bool(node), at(parent), ": <", parent.name(), "> has no <", tag, ">");
        double value = 0;
        const std::string_view text = node.child_value();
        check(parse_number(text, value), at(node), ": <", tag, "> is not a number ('",
              std::string(trim(text)).substr(0, 40), "')");
        check(std::fabs(value) <= kMaxCoordinate, at(node), ": <", tag, "> = ", value,
              " is not a plausible pixel coordinate");
        return value;
    }

    // Optional 0/1 flag such as <difficult>; absent means false.
    bool flag(const pugi::xml_node& parent, const char* tag) const {
        const pugi::xml_node node = parent.child(tag);
        if (!node) return false;
        const std::string_view text = trim(node.child_value());
        if (text == "true" || text == "True") return true;
        if (text == "false" || text == "False" || text.empty()) return false;
        double value = 0;
        check(parse_number(text, value), at(node), ": <", tag, "> should be 0 or 1, not '",
              std::string(text).substr(0, 40), "'");
        return value != 0;
    }

    // <size> dimension: 0 when absent or written as 0 (some exporters do); else 1..limit.
    int dimension(const pugi::xml_node& size, const char* tag) const {
        const pugi::xml_node node = size.child(tag);
        if (!node || trim(node.child_value()).empty()) return 0;
        double value = 0;
        check(parse_number(node.child_value(), value), at(node), ": <", tag, "> is not a number ('",
              std::string(trim(node.child_value())).substr(0, 40), "')");
        check(value >= 0 && value <= kMaxImageSide && value == std::floor(value), at(node), ": <", tag, "> = ", value,
              " is not an image size");
        return int(value);
    }

    Object object(const pugi::xml_node& node) const {
        Object object;
        object.line = line_of(xml_, node.offset_debug());
        object.name = std::string(trim(node.child_value("name")));
        check(!object.name.empty(), at(node), ": <object> has no <name>");
        const pugi::xml_node bndbox = node.child("bndbox");
        check(bool(bndbox), at(node), ": object '", object.name, "' has no <bndbox>");
        const double xmin = number(bndbox, "xmin"), ymin = number(bndbox, "ymin");
        const double xmax = number(bndbox, "xmax"), ymax = number(bndbox, "ymax");
        check(xmax >= xmin, at(bndbox), ": object '", object.name, "' has <xmax> ", xmax, " < <xmin> ", xmin);
        check(ymax >= ymin, at(bndbox), ": object '", object.name, "' has <ymax> ", ymax, " < <ymin> ", ymin);
        // VOC's pixels start at 1: a box that ends before the first one is nowhere (and a 0-based
        // <xmin> in [0, 1), mapped to the border, would be written back as 1, past its end).
        check(xmax >= 1 && ymax >= 1, at(bndbox), ": object '", object.name, "' ends before the first pixel (<xmax> ",
              xmax, ", <ymax> ", ymax, "; VOC's pixels start at 1)");
        object.box = from_voc(xmin, ymin, xmax, ymax);  // 1-based inclusive -> continuous (box.h)
        check(object.box.valid(), at(bndbox), ": object '", object.name, "' has an empty box");
        object.difficult = flag(node, "difficult");
        object.truncated = flag(node, "truncated");
        return object;
    }

private:
    std::string_view xml_;
    const std::string& source_;
};

}  // namespace

std::string object_location(const Annotation& a, const Object& o) {
    if (o.annotation_id >= 0) return a.source + " annotation id " + std::to_string(o.annotation_id);
    return a.source + " line " + std::to_string(o.line);
}

std::string box_problem(const Box& b, int width, int height) {
    if (width <= 0 || height <= 0) return "";
    if (b.x1 < 0 || b.y1 < 0 || b.x2 > float(width) || b.y2 > float(height)) {
        std::ostringstream out;
        out << "box (" << b.x1 + 1 << ", " << b.y1 + 1 << ", " << b.x2 << ", " << b.y2
            << ") in VOC coordinates lies outside the " << width << "x" << height << " image";
        return out.str();
    }
    return "";
}

Annotation parse_voc_annotation(std::string_view xml, const std::string& source, std::vector<std::string>* skipped) {
    pugi::xml_document doc;
    // Default parsing expands no external entities and fetches nothing (no XXE).
    const pugi::xml_parse_result result = doc.load_buffer(xml.data(), xml.size());
    check(bool(result), "[voc] ", source, " line ", line_of(xml, result.offset), ": malformed XML (",
          result.description(), ")");
    const pugi::xml_node root = doc.document_element();
    check(std::string_view(root.name()) == "annotation", "[voc] ", source, ": root element is <", root.name(),
          ">, expected <annotation>");

    const Parser parser(xml, source);
    Annotation a;
    a.filename = std::string(trim(root.child_value("filename")));
    if (const pugi::xml_node size = root.child("size")) {
        a.width = parser.dimension(size, "width");
        a.height = parser.dimension(size, "height");
        a.depth = parser.dimension(size, "depth");
    }
    for (const pugi::xml_node node : root.children("object")) {
        try {
            Object object = parser.object(node);
            const std::string problem = box_problem(object.box, a.width, a.height);
            check(problem.empty(), parser.at(node), ": object '", object.name, "': ", problem);
            a.objects.push_back(std::move(object));
        } catch (const Error& e) {
            if (!skipped) throw;
            skipped->push_back(e.what());
        }
    }
    return a;
}

Annotation read_voc_annotation(const std::string& path, std::vector<std::string>* skipped, const std::string& source) {
    const std::string& name = source.empty() ? path : source;
    std::ifstream in(path, std::ios::binary);
    check(bool(in), "[voc] ", name, ": ", std::filesystem::exists(path) ? "cannot read it" : "no such file");
    const std::string xml{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    check(!in.bad(), "[voc] ", name, ": read error");
    return parse_voc_annotation(xml, name, skipped);
}

namespace {

std::string coordinate(float v) {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    return ec == std::errc() ? std::string(buffer, end) : std::to_string(v);
}

}  // namespace

std::string write_voc_annotation(const Annotation& a, const std::string& folder) {
    pugi::xml_document doc;
    pugi::xml_node root = doc.append_child("annotation");
    root.append_child("folder").text().set(folder.c_str());
    const std::string filename = a.filename.empty() ? a.id + ".jpg" : a.filename;
    root.append_child("filename").text().set(filename.c_str());
    pugi::xml_node size = root.append_child("size");
    size.append_child("width").text().set(a.width);
    size.append_child("height").text().set(a.height);
    size.append_child("depth").text().set(a.depth > 0 ? a.depth : 3);
    root.append_child("segmented").text().set(0);
    for (const Object& o : a.objects) {
        pugi::xml_node node = root.append_child("object");
        node.append_child("name").text().set(o.name.c_str());
        node.append_child("pose").text().set("Unspecified");
        node.append_child("truncated").text().set(o.truncated ? 1 : 0);
        node.append_child("difficult").text().set(o.difficult ? 1 : 0);
        pugi::xml_node box = node.append_child("bndbox");
        const std::array<double, 4> v = to_voc(o.box);
        box.append_child("xmin").text().set(coordinate(float(v[0])).c_str());
        box.append_child("ymin").text().set(coordinate(float(v[1])).c_str());
        box.append_child("xmax").text().set(coordinate(float(v[2])).c_str());
        box.append_child("ymax").text().set(coordinate(float(v[3])).c_str());
    }
    std::ostringstream out;
    doc.save(out, "\t", pugi::format_indent | pugi::format_no_declaration);
    return out.str();
}

}  // namespace focal::data

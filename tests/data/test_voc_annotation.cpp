// The VOC annotation parser: what it accepts, and a clear Error for everything it does not.
#include <doctest/doctest.h>

#include <string>

#include "data/voc_annotation.h"
#include "engine/error.h"

using namespace focal::data;

namespace {

std::string object_xml(const std::string& name, const std::string& box, const std::string& extra = "") {
    return "<object><name>" + name + "</name>" + extra + "<bndbox>" + box + "</bndbox></object>";
}

std::string box_xml(const std::string& xmin, const std::string& ymin, const std::string& xmax,
                    const std::string& ymax) {
    return "<xmin>" + xmin + "</xmin><ymin>" + ymin + "</ymin><xmax>" + xmax + "</xmax><ymax>" + ymax + "</ymax>";
}

std::string annotation_xml(const std::string& objects,
                           const std::string& size = "<size><width>100</width>"
                                                     "<height>80</height><depth>3</depth></size>") {
    return "<annotation><filename>a.jpg</filename>" + size + objects + "</annotation>";
}

// The message of the Error that parsing `xml` throws ("" if it parses).
std::string error_of(const std::string& xml) {
    try {
        parse_voc_annotation(xml, "Annotations/x.xml");
    } catch (const focal::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a VOC object: 1-based inclusive corners become continuous pixel coordinates") {
    const Annotation a =
        parse_voc_annotation(annotation_xml(object_xml("dog", box_xml("1", "11", "100", "80"),
                                                       "<truncated>1</truncated><difficult>0</difficult>")),
                             "x.xml");
    CHECK(a.filename == "a.jpg");
    CHECK(a.width == 100);
    CHECK(a.height == 80);
    REQUIRE(a.objects.size() == 1);
    const Object& o = a.objects[0];
    CHECK(o.name == "dog");
    CHECK(o.box == Box{0, 10, 100, 80});  // the whole width: 100 px
    CHECK(o.truncated);
    CHECK_FALSE(o.difficult);
    CHECK(o.label == -1);
}

TEST_CASE("element order does not matter and optional fields may be absent") {
    const std::string xml =
        "<annotation><object><bndbox><ymax> 40 </ymax><xmax>30</xmax><ymin>20</ymin><xmin>10</xmin></bndbox>"
        "<difficult>1</difficult><name> cat </name></object><folder>x</folder></annotation>";
    const Annotation a = parse_voc_annotation(xml, "x.xml");
    CHECK(a.width == 0);  // no <size>: the dataset reads it from the image
    REQUIRE(a.objects.size() == 1);
    CHECK(a.objects[0].name == "cat");
    CHECK(a.objects[0].box == Box{9, 19, 30, 40});
    CHECK(a.objects[0].difficult);
    CHECK_FALSE(a.objects[0].truncated);
}

TEST_CASE("decimal coordinates, a 0-based <xmin>0, a one-pixel box and nested <part> boxes") {
    const std::string part = "<part><name>head</name><bndbox>" + box_xml("1", "1", "2", "2") + "</bndbox></part>";
    const Annotation a =
        parse_voc_annotation(annotation_xml(object_xml("person", box_xml("0", "0.5", "12.5", "3"), part) +
                                            object_xml("cat", box_xml("5", "5", "5", "5"))),
                             "x.xml");
    REQUIRE(a.objects.size() == 2);
    CHECK(a.objects[0].box.x1 == 0.0f);  // clamped onto the border, not -1
    CHECK(a.objects[0].box.y1 == 0.0f);
    CHECK(a.objects[0].box.x2 == 12.5f);
    CHECK(a.objects[1].box == Box{4, 4, 5, 5});  // xmin == xmax is one pixel wide
}

TEST_CASE("bad annotations name the file, the line and the problem") {
    SUBCASE("malformed XML") {
        const std::string e = error_of("<annotation>\n<object>\n<name>dog</nme>\n</annotation>");
        CHECK(e.find("Annotations/x.xml line 3") != std::string::npos);
        CHECK(e.find("malformed XML") != std::string::npos);
    }
    SUBCASE("empty file") { CHECK(error_of("").find("malformed XML") != std::string::npos); }
    SUBCASE("wrong root") { CHECK(error_of("<html/>").find("expected <annotation>") != std::string::npos); }
    SUBCASE("non-numeric coordinate") {
        const std::string e = error_of("<annotation>\n<object><name>dog</name>\n<bndbox>\n<xmin>abc</xmin>"
                                       "<ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>");
        CHECK(e == "[voc] Annotations/x.xml line 4: <xmin> is not a number ('abc')");
    }
    SUBCASE("missing coordinate") {
        CHECK(error_of(annotation_xml(object_xml("dog", "<xmin>1</xmin><ymin>1</ymin><xmax>5</xmax>")))
                  .find("has no <ymax>") != std::string::npos);
    }
    SUBCASE("no bndbox, no name") {
        CHECK(error_of(annotation_xml("<object><name>dog</name></object>")).find("has no <bndbox>") !=
              std::string::npos);
        CHECK(error_of(annotation_xml(object_xml("", box_xml("1", "1", "5", "5")))).find("has no <name>") !=
              std::string::npos);
    }
    SUBCASE("x2 < x1") {
        CHECK(error_of(annotation_xml(object_xml("dog", box_xml("9", "1", "5", "5")))).find("<xmax> 5 < <xmin> 9") !=
              std::string::npos);
    }
    SUBCASE("ends before the first pixel") {
        // Found by fuzz_voc_annotation (fuzz/corpus/voc_annotation/regression_before_first_pixel.xml):
        // <ymin>0 <ymax>0.25 parsed, as [0, 0.25), and was written back as <ymin>1 <ymax>0.25.
        CHECK(error_of(annotation_xml(object_xml("dog", box_xml("1", "0", "5", "0.25"))))
                  .find("ends before the first pixel (<xmax> 5, <ymax> 0.25; VOC's pixels start at 1)") !=
              std::string::npos);
    }
    SUBCASE("outside the image") {
        CHECK(error_of(annotation_xml(object_xml("dog", box_xml("1", "1", "101", "5"))))
                  .find("outside the 100x80 image") != std::string::npos);
        CHECK(error_of(annotation_xml(object_xml("dog", box_xml("-4", "1", "10", "5")))).find("outside") !=
              std::string::npos);
    }
    SUBCASE("implausible numbers") {
        CHECK(error_of(annotation_xml(object_xml("dog", box_xml("1", "1", "1e300", "5")))).find("not a plausible") !=
              std::string::npos);
        CHECK(error_of(annotation_xml(object_xml("dog", box_xml("nan", "1", "5", "5")))).find("not a number") !=
              std::string::npos);
        CHECK(error_of(annotation_xml("", "<size><width>-3</width><height>5</height></size>"))
                  .find("not an image size") != std::string::npos);
        CHECK(error_of(annotation_xml("", "<size><width>100000000</width><height>5</height></size>"))
                  .find("not an image size") != std::string::npos);
    }
    SUBCASE("bad flag") {
        CHECK(error_of(annotation_xml(object_xml("dog", box_xml("1", "1", "5", "5"), "<difficult>maybe</difficult>")))
                  .find("should be 0 or 1") != std::string::npos);
    }
}

TEST_CASE("with a skip list, a bad object is dropped and noted, the good ones kept") {
    std::vector<std::string> skipped;
    const Annotation a = parse_voc_annotation(annotation_xml(object_xml("dog", box_xml("1", "1", "5", "5")) +
                                                             object_xml("cat", box_xml("x", "1", "5", "5")) +
                                                             object_xml("cow", box_xml("1", "1", "500", "5"))),
                                              "x.xml", &skipped);
    REQUIRE(a.objects.size() == 1);
    CHECK(a.objects[0].name == "dog");
    REQUIRE(skipped.size() == 2);
    CHECK(skipped[0].find("not a number") != std::string::npos);
    CHECK(skipped[1].find("outside") != std::string::npos);
    // A broken file is still an error: there is nothing to keep.
    CHECK_THROWS_AS(parse_voc_annotation("<annotation>", "x.xml", &skipped), focal::Error);
}

TEST_CASE("write then parse gives the same annotation") {
    Annotation a;
    a.id = "000001";
    a.width = 64;
    a.height = 48;
    a.depth = 3;
    Object o;
    o.name = "star";
    o.box = {3, 4, 20, 31};
    o.difficult = true;
    a.objects.push_back(o);
    o.name = "cross";
    o.box = {0, 0, 64, 48};
    o.difficult = false;
    o.truncated = true;
    a.objects.push_back(o);
    const Annotation b = parse_voc_annotation(write_voc_annotation(a), "x.xml");
    CHECK(b.filename == "000001.jpg");
    CHECK(b.width == 64);
    CHECK(b.height == 48);
    REQUIRE(b.objects.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(b.objects[i].name == a.objects[i].name);
        CHECK(b.objects[i].box == a.objects[i].box);
        CHECK(b.objects[i].difficult == a.objects[i].difficult);
        CHECK(b.objects[i].truncated == a.objects[i].truncated);
    }
}

TEST_CASE("hostile input: every truncation of a valid file parses or throws focal::Error") {
    const std::string xml =
        annotation_xml(object_xml("dog", box_xml("1", "2", "30", "40"), "<difficult>1</difficult>") +
                       object_xml("cat", box_xml("5", "6", "7", "8")));
    int parsed = 0;
    for (std::size_t n = 0; n <= xml.size(); ++n) {
        try {
            parse_voc_annotation(std::string_view(xml).substr(0, n), "x.xml");
            ++parsed;
        } catch (const focal::Error&) {}
    }
    CHECK(parsed == 1);  // only the whole file is complete XML
}

TEST_CASE("hostile input: entity expansion, deep nesting and binary junk stay harmless") {
    const std::string laughs =
        "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>"
        "<annotation><object><name>&lol2;</name><bndbox>" +
        box_xml("1", "1", "2", "2") + "</bndbox></object></annotation>";
    const Annotation a = parse_voc_annotation(laughs, "x.xml");  // entities are not expanded
    REQUIRE(a.objects.size() == 1);
    CHECK(a.objects[0].name.size() < 20);

    std::string deep = "<annotation>";
    for (int i = 0; i < 100000; ++i) deep += "<a>";
    CHECK_THROWS_AS(parse_voc_annotation(deep, "x.xml"), focal::Error);

    std::string junk(4096, '\0');
    for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = char((i * 7919) % 251);
    CHECK_THROWS_AS(parse_voc_annotation(junk, "x.xml"), focal::Error);
}

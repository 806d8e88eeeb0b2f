// YOLO txt datasets (data/yolo.h): layouts, splits, class names from data.yaml or classes.txt,
// ignore regions, the YAML subset, and every malformed line named by file and line.
#include <doctest/doctest.h>

#include "data/image.h"
#include "data/yolo.h"
#include "engine/error.h"
#include "test_util.h"

using namespace focal::data;
using focal::test::TempDir;
using focal::test::write_file;

namespace {

// images/{train,val}/, labels/{train,val}/, data.yaml: 40 x 20 images.
void make_yolo(const std::string& root) {
    for (const char* path : {"images/train/a.jpg", "images/train/b.png", "images/val/c.jpg"}) {
        std::filesystem::create_directories(std::filesystem::path(root + "/" + path).parent_path());
        if (std::string(path).ends_with(".png")) save_png(Image(40, 20, 3, 90), root + "/" + path);
        else save_jpeg(Image(40, 20, 3, 90), root + "/" + path);
    }
    write_file(root + "/labels/train/a.txt", "1 0.375 0.375 0.25 0.25\r\n\n0 0.5 0.5 1 1\n");
    write_file(root + "/labels/train/a.ignore.txt", "0 0.25 0.25 0.5 0.5\n");
    write_file(root + "/labels/val/c.txt", "");
    write_file(root + "/data.yaml", "# a dataset\npath: .\ntrain: images/train\nval: images/val\n"
                                    "names:\n  0: cat   # comment\n  1: 'hot dog'\n");
}

std::string labels_error(const std::string& text) {
    try {
        parse_yolo_labels(text, "labels/x.txt", {"cat", "dog"}, 40, 20);
    } catch (const focal::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a YOLO folder: detected, splits from data.yaml, names, pixels, ignore regions") {
    TempDir dir;
    make_yolo(dir / "y");
    CHECK(detect_format(dir / "y") == DatasetFormat::Yolo);
    DatasetOptions o;
    o.split = "train";
    const Dataset ds = Dataset::open(dir / "y", o);
    CHECK(ds.format() == DatasetFormat::Yolo);
    CHECK(ds.classes() == std::vector<std::string>{"cat", "hot dog"});
    REQUIRE(ds.size() == 2);
    const Annotation& a = ds.annotation(0);
    CHECK(a.id == "train/a");
    CHECK(a.width == 40);
    REQUIRE(a.objects.size() == 3);
    CHECK(a.objects[0].label == 1);
    CHECK(a.objects[0].box == Box{10, 5, 20, 10});
    CHECK(a.objects[1].box == Box{0, 0, 40, 20});
    CHECK(a.objects[1].line == 3);
    CHECK(a.objects[2].difficult);  // from a.ignore.txt
    CHECK(a.objects[2].box == Box{0, 0, 20, 10});
    CHECK(ds.annotation(1).objects.empty());  // b.png has no label file: background
    o.split = "all";
    CHECK(Dataset::open(dir / "y", o).size() == 3);
    o.split = "val";
    CHECK(Dataset::open(dir / "y/data.yaml", o).size() == 1);
    o.split = "test";
    CHECK_THROWS_WITH_AS(Dataset::open(dir / "y", o), doctest::Contains("splits here: train, val"), focal::Error);

    // A .txt list of images, and classes.txt instead of data.yaml.
    std::filesystem::remove(dir / "y/data.yaml");
    write_file(dir / "y/classes.txt", "cat\ndog\n");
    write_file(dir / "y/mine.txt", "./images/train/a.jpg\nimages/val/c.jpg\n");
    o.split = "mine";
    const Dataset listed = Dataset::open(dir / "y", o);
    CHECK(listed.size() == 2);
    CHECK(listed.classes() == std::vector<std::string>{"cat", "dog"});
}

TEST_CASE("YOLO: each malformed line is an error naming the file and line") {
    CHECK(labels_error("0 0.5 0.5 0.1\n") == "[yolo] labels/x.txt line 1: 4 values, expected 5 (class cx cy w h)");
    CHECK(labels_error("0 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.1 0.1 7\n") ==
          "[yolo] labels/x.txt line 2: 6 values, expected 5 (class cx cy w h)");
    CHECK(labels_error("2 0.5 0.5 0.1 0.1") == "[yolo] labels/x.txt line 1: class 2 is beyond the 2 class names");
    CHECK(labels_error("0.5 0.5 0.5 0.1 0.1") == "[yolo] labels/x.txt line 1: class 0.5 is not an index");
    CHECK(labels_error("0 0.5 abc 0.1 0.1") == "[yolo] labels/x.txt line 1: 'abc' is not a number");
    CHECK(labels_error("0 0.5 0.5 0 0.1") == "[yolo] labels/x.txt line 1: empty box (w 0, h 0.1)");
    CHECK(labels_error("0 0.95 0.5 0.2 0.1").find("line 1: box (cx 0.95, cy 0.5, w 0.2, h 0.1) lies outside") !=
          std::string::npos);
    CHECK(labels_error("0 nan 0.5 0.1 0.1").find("is not a number") != std::string::npos);
    std::vector<std::string> skipped;
    CHECK(parse_yolo_labels("0 0.5 0.5 0.1\n1 0.5 0.5 0.5 0.5\n", "x", {"a", "b"}, 40, 20, &skipped).size() == 1);
    CHECK(skipped.size() == 1);
}

TEST_CASE("YOLO: a missing image, a bad line with --skip-bad, no class names") {
    TempDir dir;
    make_yolo(dir / "y");
    write_file(dir / "y/labels/train/ghost.txt", "0 0.5 0.5 0.1 0.1\n");
    write_file(dir / "y/labels/train/a.txt", "0 0.5 0.5 0.1 0.1 9\n1 0.5 0.5 0.2 0.2\n");
    DatasetOptions o;
    o.split = "train";
    CHECK_THROWS_WITH_AS(Dataset::open(dir / "y", o),
                         doctest::Contains("[yolo] labels/train/a.txt line 1: 6 values, expected 5"), focal::Error);
    o.skip_bad = true;
    const Dataset ds = Dataset::open(dir / "y", o);
    CHECK(ds.size() == 2);
    CHECK(ds.skipped_objects() == 1);
    REQUIRE(ds.warnings().size() == 2);
    CHECK(ds.warnings()[1] ==
          "[yolo] labels/train/ghost.txt: missing image (no image of that name under images/train) (file skipped)");
    o.skip_bad = false;
    write_file(dir / "y/labels/train/a.txt", "");
    CHECK_THROWS_WITH_AS(Dataset::open(dir / "y", o), doctest::Contains("ghost.txt: missing image"), focal::Error);
    write_file(dir / "y/mine.txt", "images/train/nobody.jpg\n");
    o.split = "mine";
    CHECK_THROWS_WITH_AS(Dataset::open(dir / "y", o),
                         doctest::Contains("[yolo] mine.txt line 1: missing image images/train/nobody.jpg"),
                         focal::Error);
    std::filesystem::remove(dir / "y/data.yaml");
    CHECK_THROWS_WITH_AS(Dataset::open(dir / "y", o), doctest::Contains("no class names"), focal::Error);
}

TEST_CASE("the YAML subset: lists and mappings, quotes, comments; what it refuses") {
    const YamlSubset y = parse_yaml_subset(
        "path: ../data  # where\nnames: ['a b', \"c\\\"d\", e]\nval:\nm: {1: y, 0: x}\nl:\n  - p\n  - 'q # r'\n",
        "d.yaml");
    CHECK(y.scalars.at("path") == "../data");
    CHECK(y.lists.at("names") == std::vector<std::string>{"a b", "c\"d", "e"});
    CHECK(y.scalars.at("val").empty());
    CHECK(y.lists.at("m") == std::vector<std::string>{"x", "y"});
    CHECK(y.lists.at("l") == std::vector<std::string>{"p", "q # r"});
    CHECK_THROWS_WITH_AS(parse_yaml_subset("names:\n  0: a\n  2: c\n", "d.yaml"),
                         doctest::Contains("d.yaml line 1: mapping key '2' is not one of 0..1"), focal::Error);
    CHECK_THROWS_WITH_AS(parse_yaml_subset("a: 1\na: 2\n", "d.yaml"),
                         doctest::Contains("d.yaml line 2: key 'a' appears twice"), focal::Error);
    CHECK_THROWS_WITH_AS(parse_yaml_subset("just text\n", "d.yaml"), doctest::Contains("line 1: expected 'key: value'"),
                         focal::Error);
    CHECK_THROWS_WITH_AS(parse_yaml_subset("a: &x 1\n", "d.yaml"), doctest::Contains("beyond the YAML subset"),
                         focal::Error);
}

TEST_CASE("YOLO: labels written and read back") {
    Object o;
    o.label = 1, o.box = {10, 5, 20, 10};
    const std::string text = write_yolo_labels({o}, 40, 20);
    CHECK(text == "1 0.375 0.375 0.25 0.25\n");
    const std::vector<Object> back = parse_yolo_labels(text, "x", {"a", "b"}, 40, 20);
    REQUIRE(back.size() == 1);
    CHECK(back[0].box == o.box);
    CHECK(yolo_label_path("d/images/train/x.jpg") == "d/labels/train/x.txt");
    CHECK_THROWS_WITH_AS(yolo_label_path("d/pics/x.jpg"), doctest::Contains("not under an 'images' folder"),
                         focal::Error);
}

// Opening VOC-format datasets: layouts, split files, class lists, bad data, --skip-bad,
// and the genuine VOC 2007 sample when it is there.
#include <doctest/doctest.h>

#include "data/voc.h"
#include "engine/error.h"
#include "test_util.h"

using namespace focal::data;
using focal::test::TempDir;
using focal::test::write_file;

namespace {

std::string xml(int w, int h, const std::string& objects) {
    return "<annotation><size><width>" + std::to_string(w) + "</width><height>" + std::to_string(h) +
           "</height></size>" + objects + "</annotation>";
}

std::string obj(const std::string& name, int x1, int y1, int x2, int y2, bool difficult = false) {
    return "<object><name>" + name + "</name><difficult>" + (difficult ? "1" : "0") + "</difficult><bndbox><xmin>" +
           std::to_string(x1) + "</xmin><ymin>" + std::to_string(y1) + "</ymin><xmax>" + std::to_string(x2) +
           "</xmax><ymax>" + std::to_string(y2) + "</ymax></bndbox></object>";
}

// root/{Annotations, JPEGImages, ImageSets/Main/train.txt}: three 32 x 24 images.
void make_voc(const std::string& root) {
    write_file(root + "/Annotations/a.xml", xml(32, 24, obj("dog", 1, 1, 10, 10) + obj("cat", 5, 5, 32, 24, true)));
    write_file(root + "/Annotations/b.xml", xml(32, 24, obj("person", 2, 3, 4, 5)));
    write_file(root + "/Annotations/c.xml", xml(32, 24, ""));
    std::filesystem::create_directories(root + "/JPEGImages");
    for (const char* id : {"a", "b", "c"}) save_jpeg(Image(32, 24, 3, 90), root + "/JPEGImages/" + id + ".jpg");
    write_file(root + "/ImageSets/Main/train.txt", "a\nb\r\n\n  c  \n");
    write_file(root + "/ImageSets/Main/dog_train.txt", "a  1\nb -1\n");  // per-class files are not splits
}

std::string open_error(const std::string& path, const DatasetOptions& options = {}) {
    try {
        Dataset::open(path, options);
    } catch (const focal::Error& e) {
        return e.what();
    }
    return "";
}

DatasetOptions split(const std::string& name) {
    DatasetOptions o;
    o.split = name;
    return o;
}

}  // namespace

TEST_CASE("layouts: a VOCdevkit folder (VOC2007 unless --year), a VOC20XX folder, its parent") {
    TempDir dir;
    make_voc(dir / "VOCdevkit/VOC2007");
    make_voc(dir / "VOCdevkit/VOC2012");
    std::filesystem::remove(dir / "VOCdevkit/VOC2012/Annotations/c.xml");
    write_file(dir / "VOCdevkit/VOC2012/ImageSets/Main/train.txt", "a\nb\n");

    CHECK(resolve_voc_root(dir / "VOCdevkit") == dir / "VOCdevkit/VOC2007");
    CHECK(resolve_voc_root(dir / "VOCdevkit", 2012) == dir / "VOCdevkit/VOC2012");
    CHECK(resolve_voc_root(dir.path().string()) == dir / "VOCdevkit/VOC2007");
    CHECK(resolve_voc_root(dir / "VOCdevkit/VOC2012") == dir / "VOCdevkit/VOC2012");
    CHECK(Dataset::open(dir / "VOCdevkit", split("train")).size() == 3);
    DatasetOptions o = split("train");
    o.year = 2012;
    CHECK(Dataset::open(dir / "VOCdevkit", o).size() == 2);

    o.year = 2010;
    const std::string e = open_error(dir / "VOCdevkit", o);
    CHECK(e.find("VOC2010/Annotations") != std::string::npos);
    CHECK(e.find("VOC2007, VOC2012") != std::string::npos);  // what is there
    CHECK(open_error(dir / "nowhere").find("is not a folder") != std::string::npos);
}

TEST_CASE("a union of splits (a+b) and splits that name their year: VOC 07+12") {
    TempDir dir;
    make_voc(dir / "VOCdevkit/VOC2007");
    make_voc(dir / "VOCdevkit/VOC2012");
    write_file(dir / "VOCdevkit/VOC2007/ImageSets/Main/val.txt", "c\n");
    write_file(dir / "VOCdevkit/VOC2012/ImageSets/Main/train.txt", "b\na\n");
    const std::string devkit = dir / "VOCdevkit";

    const Dataset year = Dataset::open(devkit, split("VOC2012/train"));
    CHECK(year.size() == 2);
    CHECK(year.annotation(0).id == "b");
    CHECK(year.split() == "VOC2012/train");

    // 07+12: each part in order, sources naming their folder, labels resolved over the union.
    const Dataset both = Dataset::open(devkit, split("VOC2007/train+VOC2012/train"));
    REQUIRE(both.size() == 5);
    CHECK(both.annotation(0).source == "VOC2007/Annotations/a.xml");
    CHECK(both.annotation(3).source == "VOC2012/Annotations/b.xml");
    CHECK(both.image_path(4) == dir / "VOCdevkit/VOC2012/JPEGImages/a.jpg");
    CHECK(both.annotation(3).objects.at(0).label == 14);  // person
    CHECK(both.split() == "VOC2007/train+VOC2012/train");

    // A part without a year is --year's (2007). An image in two parts is an error, or with
    // skip_bad kept once; parts of one folder keep their plain sources.
    const Dataset mixed = Dataset::open(devkit, split("val+VOC2012/train"));
    CHECK(mixed.annotation(0).source == "VOC2007/Annotations/c.xml");
    const std::string twice = open_error(devkit, split("train+val"));
    CHECK(twice.find("Annotations/c.xml: its image") != std::string::npos);
    CHECK(twice.find("is in split 'train' too") != std::string::npos);
    DatasetOptions skip = split("train+val");
    skip.skip_bad = true;
    const Dataset skipped = Dataset::open(devkit, skip);
    CHECK(skipped.size() == 3);
    CHECK(skipped.skipped_images() == 1);
    CHECK(skipped.annotation(0).source == "Annotations/a.xml");

    // Bad parts name what is wrong.
    CHECK(open_error(devkit, split("train+")).find("an empty part") != std::string::npos);
    CHECK(open_error(devkit, split("VOC2010/train")).find("VOC2010/Annotations") != std::string::npos);
    DatasetOptions clash = split("VOC2012/train");
    clash.year = 2007;
    CHECK(open_error(devkit, clash).find("names its year, so --year 2007 does not apply") != std::string::npos);
    write_file(dir / "VOCdevkit/VOC2012/classes.txt", "dog\ncat\nperson\n");
    CHECK(open_error(devkit, split("VOC2007/train+VOC2012/train")).find("has its own class list") != std::string::npos);
}

TEST_CASE("a split file: ids in order, CRLF and blank lines tolerated; boxes and flags kept") {
    TempDir dir;
    make_voc(dir / "VOC2007");
    const Dataset ds = Dataset::open(dir / "VOC2007", split("train"));
    REQUIRE(ds.size() == 3);
    CHECK(ds.annotation(0).id == "a");
    CHECK(ds.annotation(2).id == "c");
    CHECK(ds.classes().size() == 20);
    CHECK(ds.class_source() == "the 20 VOC classes");
    const Annotation& a = ds.annotation(0);
    REQUIRE(a.objects.size() == 2);
    CHECK(a.objects[0].label == 11);  // dog
    CHECK(a.objects[1].label == 7);   // cat
    CHECK(a.objects[1].difficult);
    CHECK(a.objects[1].box == Box{4, 4, 32, 24});
    CHECK(ds.annotation(2).objects.empty());
    const Image im = ds.load_image(1);
    CHECK(im.width == 32);
    CHECK(im.height == 24);
}

TEST_CASE("split problems: missing, empty, duplicate ids, path-like ids") {
    TempDir dir;
    const std::string root = dir / "VOC2007";
    make_voc(root);
    const std::string missing = open_error(root, split("val"));
    CHECK(missing.find("no split 'val'") != std::string::npos);
    CHECK(missing.find("splits here: train)") != std::string::npos);

    write_file(root + "/ImageSets/Main/empty.txt", "\n  \n");
    CHECK(open_error(root, split("empty")).find("ImageSets/Main/empty.txt lists no image ids") != std::string::npos);

    write_file(root + "/ImageSets/Main/dup.txt", "a\nb\na\n");
    CHECK(open_error(root, split("dup")) == "[voc] ImageSets/Main/dup.txt line 3: duplicate id 'a' (first on line 1)");
    DatasetOptions skip = split("dup");
    skip.skip_bad = true;
    const Dataset ds = Dataset::open(root, skip);
    CHECK(ds.size() == 2);
    REQUIRE(ds.warnings().size() == 1);
    CHECK(ds.warnings()[0].find("duplicate id 'a'") != std::string::npos);

    write_file(root + "/ImageSets/Main/evil.txt", "../../etc/passwd\n");
    CHECK(open_error(root, split("evil")).find("is not an image id") != std::string::npos);
}

TEST_CASE("class lists: classes.txt, a comma list, 'auto' collection, unknown names") {
    TempDir dir;
    const std::string root = dir / "VOC2007";
    make_voc(root);
    DatasetOptions o = split("train");
    o.classes = "auto";
    const Dataset collected = Dataset::open(root, o);
    CHECK(collected.classes() == std::vector<std::string>{"cat", "dog", "person"});
    CHECK(collected.annotation(0).objects[0].label == 1);

    o.classes = "person,dog,cat";
    CHECK(Dataset::open(root, o).annotation(0).objects[0].label == 1);
    o.classes = "person,,cat";
    CHECK(open_error(root, o).find("empty class name") != std::string::npos);
    o.classes = "dog,dog,cat,person";
    CHECK(open_error(root, o).find("listed twice") != std::string::npos);

    o.classes = "dog,person";
    const std::string e = open_error(root, o);
    CHECK(e.find("Annotations/a.xml line 1: unknown class 'cat'") != std::string::npos);
    CHECK(e.find("--classes auto") != std::string::npos);
    o.skip_bad = true;
    const Dataset skipped = Dataset::open(root, o);
    CHECK(skipped.skipped_objects() == 1);
    CHECK(skipped.annotation(0).objects.size() == 1);

    write_file(root + "/classes.txt", "# my labels\nperson\ndog\ncat\n");
    const Dataset beside = Dataset::open(root, split("train"));
    CHECK(beside.classes() == std::vector<std::string>{"person", "dog", "cat"});
    CHECK(beside.class_source().find("classes.txt") != std::string::npos);
}

TEST_CASE("bad files: each a clear error, or with skip_bad a warning and a count") {
    TempDir dir;
    const std::string root = dir / "VOC2007";
    make_voc(root);
    write_file(root + "/Annotations/b.xml", "<annotation><object>");  // malformed
    std::filesystem::remove(root + "/JPEGImages/c.jpg");              // missing image
    write_file(root + "/Annotations/a.xml", xml(32, 24, obj("dog", 1, 1, 10, 10) + obj("cat", 20, 1, 10, 10)));

    CHECK(open_error(root, split("train")).find("Annotations/a.xml line 1: object 'cat' has <xmax> 10 < <xmin> 20") !=
          std::string::npos);
    DatasetOptions o = split("train");
    o.skip_bad = true;
    std::string e = open_error(root, o);
    CHECK(e.find("no usable images left") == std::string::npos);
    const Dataset ds = Dataset::open(root, o);
    CHECK(ds.size() == 1);
    CHECK(ds.skipped_images() == 2);
    CHECK(ds.skipped_objects() == 1);
    REQUIRE(ds.warnings().size() == 3);
    CHECK(ds.warnings()[1].find("Annotations/b.xml") != std::string::npos);
    CHECK(ds.warnings()[2] == "[voc] JPEGImages/c.jpg: missing image (annotated by Annotations/c.xml) (image skipped)");
    CHECK(ds.skip_summary() == "[voc] --skip-bad: skipped 2 of 3 images and 1 object (3 warnings)");

    std::filesystem::remove(root + "/JPEGImages/a.jpg");
    CHECK(open_error(root, o).find("no usable images left") != std::string::npos);

    write_file(root + "/ImageSets/Main/ghost.txt", "nobody\n");
    CHECK(open_error(root, split("ghost")).find("[voc] Annotations/nobody.xml: no such file") != std::string::npos);
}

TEST_CASE("check_images finds truncated images and size mismatches up front") {
    TempDir dir;
    const std::string root = dir / "VOC2007";
    make_voc(root);
    const std::vector<std::uint8_t> jpg = read_file(root + "/JPEGImages/a.jpg");
    write_file(root + "/JPEGImages/a.jpg", std::string(jpg.begin(), jpg.begin() + std::ptrdiff_t(jpg.size() / 2)));
    save_jpeg(Image(24, 32, 3), root + "/JPEGImages/b.jpg");
    DatasetOptions o = split("train");
    CHECK(Dataset::open(root, o).size() == 3);  // headers are not read when <size> is given
    o.check_images = true;
    CHECK(open_error(root, o).find("a.jpg: truncated or corrupt JPEG") != std::string::npos);
    o.skip_bad = true;
    const Dataset ds = Dataset::open(root, o);
    CHECK(ds.size() == 1);
    CHECK(ds.warnings()[1].find("JPEGImages/b.jpg is 24x32 but Annotations/b.xml says 32x24") != std::string::npos);

    // Without the check, the loader-side decode still refuses them, naming the file.
    o.check_images = o.skip_bad = false;
    const Dataset lazy = Dataset::open(root, o);
    CHECK_THROWS_WITH_AS(lazy.load_image(0), doctest::Contains("a.jpg: truncated"), focal::Error);
    CHECK_THROWS_WITH_AS(lazy.load_image(1), doctest::Contains("is 24x32 but"), focal::Error);
}

TEST_CASE("an export without <size> or split files: --split all, sizes from the images") {
    TempDir dir;
    const std::string root = dir / "export";
    make_voc(root);
    std::filesystem::remove_all(root + "/ImageSets");
    write_file(root + "/Annotations/a.xml", "<annotation><filename>a.jpg</filename>" + obj("dog", 1, 1, 32, 24) +
                                                obj("dog", 1, 1, 33, 24) + "</annotation>");
    CHECK(open_error(root).find("splits here: none; try --split all") != std::string::npos);
    CHECK(open_error(root, split("all")).find("outside the 32x24 image") != std::string::npos);
    DatasetOptions o = split("all");
    o.skip_bad = true;
    const Dataset ds = Dataset::open(root, o);
    CHECK(ds.size() == 3);
    CHECK(ds.annotation(0).width == 32);
    CHECK(ds.annotation(0).objects.size() == 1);
}

TEST_CASE("the genuine VOC 2007 sample") {
    const std::string voc = focal::test::voc_sample();
    if (voc.empty()) {
        MESSAGE("skipped: no VOC sample at ../shared/data/VOCdevkit");
        return;
    }
    // Counts from the annotations by an independent reader (Python's ElementTree):
    // train 1200 images / 3650 objects / 664 difficult; val 300 / 908 / 192.
    for (const auto& [name, images, objects, difficult] :
         {std::tuple{"train", 1200, 3650, 664}, std::tuple{"val", 300, 908, 192}}) {
        const Dataset ds = Dataset::open(voc, split(name));
        CHECK(ds.size() == std::size_t(images));
        int n = 0, d = 0;
        for (std::size_t i = 0; i < ds.size(); ++i)
            for (const Object& o : ds.annotation(i).objects) {
                ++n;
                d += o.difficult;
                CHECK(o.label >= 0);
            }
        CHECK(n == objects);
        CHECK(d == difficult);
        CHECK(ds.warnings().empty());
        CHECK(ds.skip_summary().empty());
    }
    const Dataset val = Dataset::open(voc, split("val"));
    const Image im = val.load_image(0);
    CHECK(im.width == val.annotation(0).width);
}

TEST_CASE("split and class lists parse from memory as from their files") {
    const std::vector<std::string> ids = parse_split_list("000005\r\n\n  000007 1\n000009", "train.txt");
    CHECK(ids == std::vector<std::string>{"000005", "000007", "000009"});
    CHECK_THROWS_WITH_AS(parse_split_list(std::string("a\0b\n", 4), "train.txt"), doctest::Contains("train.txt line 1"),
                         focal::Error);
    CHECK_THROWS_WITH_AS(parse_split_list(" \n\r\n", "train.txt"), doctest::Contains("lists no image ids"),
                         focal::Error);
    std::vector<std::string> skipped;
    CHECK(parse_split_list("a\n../b\na\n", "train.txt", &skipped) == std::vector<std::string>{"a"});
    CHECK(skipped.size() == 2);

    CHECK(parse_class_list("# shapes\r\n cat \n\n#dog\nbird\n", "classes.txt") ==
          std::vector<std::string>{"cat", "bird"});
    CHECK_THROWS_WITH_AS(parse_class_list("cat\ncat\n", "classes.txt"), doctest::Contains("listed twice"),
                         focal::Error);
    CHECK_THROWS_WITH_AS(parse_class_list(std::string("c\0t\n", 4), "classes.txt"), doctest::Contains("NUL"),
                         focal::Error);
    CHECK(parse_class_names(" cat,dog ") == std::vector<std::string>{"cat", "dog"});
    CHECK_THROWS_WITH_AS(parse_class_names("cat,,dog"), doctest::Contains("an empty class name"), focal::Error);
}

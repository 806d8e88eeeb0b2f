// Image files: round trips, and truncated or hostile files refused with the file named.
#include <doctest/doctest.h>

#include "data/image.h"
#include "engine/error.h"
#include "test_util.h"

using namespace focal::data;

namespace {

Image gradient(int w, int h) {
    Image im(w, h, 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            std::uint8_t* p = im.at(x, y);
            p[0] = std::uint8_t(x * 255 / w);
            p[1] = std::uint8_t(y * 255 / h);
            p[2] = std::uint8_t((x + y) % 256);
        }
    return im;
}

std::string error_of(const std::vector<std::uint8_t>& bytes) {
    try {
        decode_image(bytes.data(), bytes.size(), "JPEGImages/x.jpg");
    } catch (const focal::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("JPEG and PNG round trips") {
    focal::test::TempDir dir;
    const Image im = gradient(40, 30);
    save_png(im, dir / "a.png");
    const Image png = load_image(dir / "a.png");
    CHECK(png.width == 40);
    CHECK(png.height == 30);
    CHECK(png.pixels == im.pixels);  // lossless

    save_jpeg(im, dir / "a.jpg", 95);
    const Image jpg = load_image(dir / "a.jpg");
    REQUIRE(jpg.pixels.size() == im.pixels.size());
    double error = 0;
    for (std::size_t i = 0; i < im.pixels.size(); ++i)
        error += std::abs(int(jpg.pixels[i]) - int(im.pixels[i]));
    CHECK(error / double(im.pixels.size()) < 4);  // lossy, but close
    const ImageHeader header = read_image_header(dir / "a.jpg");
    CHECK(header.width == 40);
    CHECK(header.height == 30);
}

TEST_CASE("a truncated JPEG is refused, although stb_image would decode it") {
    const std::vector<std::uint8_t> whole = encode_jpeg(gradient(64, 64), 90);
    CHECK(jpeg_defect(whole.data(), whole.size()).empty());
    CHECK(error_of(whole).empty());
    for (const std::size_t keep :
         {whole.size() - 2, whole.size() * 3 / 4, whole.size() / 2, std::size_t(300)}) {
        const std::vector<std::uint8_t> cut(whole.begin(), whole.begin() + std::ptrdiff_t(keep));
        CHECK_FALSE(jpeg_defect(cut.data(), cut.size()).empty());
        const std::string e = error_of(cut);
        CHECK(e.find("JPEGImages/x.jpg") != std::string::npos);
        CHECK(e.find("truncated") != std::string::npos);
    }
    // Every prefix is refused cleanly, none crashes.
    for (std::size_t keep = 0; keep < whole.size(); keep += 7) {
        const std::vector<std::uint8_t> cut(whole.begin(), whole.begin() + std::ptrdiff_t(keep));
        CHECK_FALSE(error_of(cut).empty());
    }
}

TEST_CASE("missing, empty, junk and oversized images give a clear Error") {
    focal::test::TempDir dir;
    CHECK_THROWS_WITH_AS(load_image(dir / "nope.jpg"), doctest::Contains("cannot read"), focal::Error);
    focal::test::write_file(dir / "empty.jpg", "");
    CHECK_THROWS_WITH_AS(load_image(dir / "empty.jpg"), doctest::Contains("empty file"), focal::Error);
    focal::test::write_file(dir / "text.jpg", "this is not an image");
    CHECK_THROWS_WITH_AS(load_image(dir / "text.jpg"), doctest::Contains("cannot decode"), focal::Error);
    CHECK_THROWS_AS(verify_image_file(dir / "text.jpg"), focal::Error);

    // PNG headers claiming 20000 x 20 and 100000 x 100000 pixels: refused before any
    // allocation, by our side limit or by stb's own size check.
    std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0,    0, 0,
                                     13,   'I', 'H', 'D', 'R',  0,    0,    0x4E, 0x20, 0, 0,
                                     0,    20,  8,   2,   0,    0,    0,    0,    0,    0, 0};
    CHECK(error_of(png).find("larger than the 16384 px limit") != std::string::npos);
    png[17] = 1, png[18] = 0x86, png[19] = 0xA0, png[21] = 1, png[22] = 0x86, png[23] = 0xA0;
    CHECK(error_of(png).find("cannot decode") != std::string::npos);
}

TEST_CASE("the real VOC JPEGs all end in an end-of-image marker") {
    const std::string voc = focal::test::voc_sample();
    if (voc.empty()) {
        MESSAGE("skipped: no VOC sample at ../shared/data/VOCdevkit");
        return;
    }
    int checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(voc + "/VOC2007/JPEGImages")) {
        const std::vector<std::uint8_t> bytes = read_file(entry.path().string());
        CHECK(jpeg_defect(bytes.data(), bytes.size()) == "");
        if (++checked == 300) break;
    }
    CHECK(checked == 300);
}

TEST_CASE("our resize matches stb_image_resize's triangle filter within one level") {
    Image im = gradient(97, 61);
    for (std::size_t i = 0; i < im.pixels.size(); ++i)
        im.pixels[i] ^= std::uint8_t((i * 2654435761u) >> 24);  // texture
    for (const auto& [w, h] :
         {std::pair{48, 30}, {200, 150}, {97, 20}, {13, 61}, {256, 256}, {1, 1}, {3, 200}}) {
        const Image ours = resize(im, w, h), theirs = resize_stb(im, w, h);
        REQUIRE(ours.pixels.size() == theirs.pixels.size());
        int worst = 0;
        for (std::size_t i = 0; i < ours.pixels.size(); ++i)
            worst = std::max(worst, std::abs(int(ours.pixels[i]) - int(theirs.pixels[i])));
        CAPTURE(w);
        CAPTURE(h);
        CHECK(worst <= 1);
    }
}

TEST_CASE("resize keeps a flat image flat and the size asked for") {
    Image im(30, 20, 3, 77);
    const Image small = resize(im, 7, 5);
    CHECK(small.width == 7);
    CHECK(small.height == 5);
    for (std::uint8_t v : small.pixels) CHECK(v == 77);
    CHECK_THROWS_AS(resize(im, 0, 5), focal::Error);
}

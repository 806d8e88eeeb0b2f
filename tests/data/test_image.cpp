// Image files: round trips, and truncated or hostile files refused with the file named.
#include <doctest/doctest.h>

#include "data/image.h"
#include "engine/error.h"
#include "file_size_limit.h"
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
    for (std::size_t i = 0; i < im.pixels.size(); ++i) error += std::abs(int(jpg.pixels[i]) - int(im.pixels[i]));
    CHECK(error / double(im.pixels.size()) < 4);  // lossy, but close
    const ImageHeader header = read_image_header(dir / "a.jpg");
    CHECK(header.width == 40);
    CHECK(header.height == 30);
}

TEST_CASE("a truncated JPEG is refused, although stb_image would decode it") {
    const std::vector<std::uint8_t> whole = encode_jpeg(gradient(64, 64), 90);
    CHECK(jpeg_defect(whole.data(), whole.size()).empty());
    CHECK(error_of(whole).empty());
    for (const std::size_t keep : {whole.size() - 2, whole.size() * 3 / 4, whole.size() / 2, std::size_t(300)}) {
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
    CHECK_THROWS_WITH_AS(load_image(dir / "text.jpg"), doctest::Contains("not an image focal reads"), focal::Error);
    CHECK_THROWS_AS(verify_image_file(dir / "text.jpg"), focal::Error);

    // PNG headers claiming 20000 x 20 and 100000 x 100000 pixels: refused before any
    // allocation, by our side limit or by stb's own size check.
    std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0,   0, 0, 13,
                                     'I',  'H', 'D', 'R', 0,    0,    0x4E, 0x20, 0,   0, 0, 20,
                                     8,    2,   0,   0,   0,    0,    0,    0,    0,   0, 0, 0,
                                     0,    'I', 'E', 'N', 'D',  0xAE, 0x42, 0x60, 0x82};
    CHECK(error_of(png).find("larger than the 16384 px limit") != std::string::npos);
    png[17] = 1, png[18] = 0x86, png[19] = 0xA0, png[21] = 1, png[22] = 0x86, png[23] = 0xA0;
    CHECK(error_of(png).find("not a readable image") != std::string::npos);
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
    for (const auto& [w, h] : {std::pair{48, 30}, {200, 150}, {97, 20}, {13, 61}, {256, 256}, {1, 1}, {3, 200}}) {
        const Image ours = resize(im, w, h), theirs = resize_stb(im, w, h);
        REQUIRE(ours.pixels.size() == theirs.pixels.size());
        int worst = 0;
        for (std::size_t i = 0; i < ours.pixels.size(); ++i)
            worst = std::max(worst, std::abs(int(ours.pixels[i]) - int(theirs.pixels[i])));
        const std::pair size{w, h};  // a copy: clang 14 cannot capture a structured binding
        CAPTURE(size.first);
        CAPTURE(size.second);
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

TEST_CASE("formats are told by their first bytes, not the file name: JPEG and PNG only") {
    focal::test::TempDir dir;
    const Image im = gradient(6, 4);
    // A PNG named .jpg opens, as a PNG.
    save_png(im, dir / "really_a_png.jpg");
    CHECK(load_image(dir / "really_a_png.jpg").pixels == im.pixels);
    CHECK(read_image_header(dir / "really_a_png.jpg").width == 6);
    // What stb_image could read but focal refuses, each named, whatever the extension.
    const std::vector<std::pair<std::string, std::string>> refused = {
        {std::string("BM\x46\0\0\0\0\0\0\0\x36\0\0\0", 14) + std::string(56, '\0'), "a BMP file"},
        {"GIF89a\x01\0\x01\0\x80\0\0", "a GIF file"},
        {"8BPS\0\x01", "a PSD file"},
        {"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 1\n", "an HDR file"},
        {"P6\n2 1\n255\n\0\0\0\0\0\0", "a PNM file"},
        {"\x53\x80\xF6\x34", "a PIC file"},
        {std::string("\0\0\x02\0\0\0\0\0\0\0\0\0\x01\0\x01\0\x18\0\0\0\0", 21), "not an image focal reads"},  // TGA
    };
    for (const auto& [bytes, what] : refused) {
        const std::string& case_name = what;  // clang 14 cannot capture a structured binding
        CAPTURE(case_name);
        focal::test::write_file(dir / "x.jpg", bytes);
        CHECK_THROWS_WITH_AS(load_image(dir / "x.jpg"), doctest::Contains(what.c_str()), focal::Error);
        CHECK_THROWS_WITH_AS(read_image_header(dir / "x.jpg"), doctest::Contains(what.c_str()), focal::Error);
        CHECK_THROWS_WITH_AS(verify_image_file(dir / "x.jpg"), doctest::Contains("focal reads JPEG and PNG"),
                             focal::Error);
    }
    const std::vector<std::uint8_t> jpeg = encode_jpeg(im);
    CHECK(image_format(jpeg.data(), jpeg.size(), "a.png") == "JPEG");
}

TEST_CASE("a PNG chunk longer than the file is refused before stb_image allocates it") {
    // fuzz/corpus/image/regression_idat_length.png, found by fuzz_image: 79 bytes whose IDAT
    // chunk claims 1,347,616,790 bytes, which stb_image 2.27 allocated before reading.
    const std::vector<std::uint8_t> png = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
                                           0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02,
                                           0x10, 0x02, 0x00, 0x00, 0x00, 0xad, 0x44, 0x38, 0x42, 0x50, 0x53, 0x00,
                                           0x16, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x01, 0x56,
                                           0x65, 0x0d, 0x10, 0x09, 0x62, 0x32, 0x82, 0x39, 0x40, 0x12, 0x00, 0x07,
                                           0xfb, 0x00, 0xad, 0x0e, 0xbf, 0x97, 0x85, 0x00, 0x00, 0x00, 0x00, 0x49,
                                           0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
    CHECK(png_defect(png.data(), png.size()) == "chunk IDAT of 1347616790 bytes runs past the end of the file");
    CHECK(error_of(png).find("truncated or corrupt PNG") != std::string::npos);
    // A PNG cut anywhere is refused the same way; a whole one has no defect.
    focal::test::TempDir dir;
    save_png(gradient(9, 7), dir / "a.png");
    const std::string whole = focal::test::read_text(dir / "a.png");
    CHECK(png_defect(reinterpret_cast<const std::uint8_t*>(whole.data()), whole.size()).empty());
    for (std::size_t keep = 8; keep < whole.size(); keep += 5)
        CHECK_FALSE(png_defect(reinterpret_cast<const std::uint8_t*>(whole.data()), keep).empty());
}

TEST_CASE("a JPEG Huffman table of more than 256 codes is refused before stb_image overruns its table") {
    // Found by fuzz_image (fuzz/corpus/image/regression_dht_codes.jpg): stb_image 2.27 writes
    // past the 257 entries of its code-size table. Here a DHT segment whose counts add up to 300.
    std::vector<std::uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xC4};
    const std::size_t length = 2 + 17 + 300;
    jpeg.push_back(std::uint8_t(length >> 8));
    jpeg.push_back(std::uint8_t(length & 0xFF));
    jpeg.push_back(0x00);  // class 0, table 0
    for (int k = 0; k < 14; ++k) jpeg.push_back(0);
    jpeg.push_back(150), jpeg.push_back(150);  // 300 codes of 15 and 16 bits
    jpeg.insert(jpeg.end(), 300, 0x01);
    jpeg.push_back(0xFF), jpeg.push_back(0xD9);
    CHECK(jpeg_defect(jpeg.data(), jpeg.size()) == "corrupt: Huffman table at byte 6 (300 codes)");
    CHECK(error_of(jpeg).find("truncated or corrupt JPEG: corrupt: Huffman table") != std::string::npos);
    // Real JPEGs keep passing: focal's own has complete tables of at most 256 codes.
    const std::vector<std::uint8_t> good = encode_jpeg(gradient(16, 16));
    CHECK(jpeg_defect(good.data(), good.size()).empty());
}

TEST_CASE("a JPEG scan that names a Huffman table no DHT defined is refused before stb_image reads it") {
    // Found by fuzz_image (fuzz/corpus/image/regression_undefined_huffman.jpg): stb_image 2.27
    // decodes with the table's uninitialised limits and reads past their end. Here focal's own
    // JPEG with its AC table 0 renamed to table 2, which no scan asks for.
    std::vector<std::uint8_t> jpeg = encode_jpeg(gradient(16, 16));
    CHECK(jpeg_defect(jpeg.data(), jpeg.size()).empty());
    std::size_t renamed = 0;
    for (std::size_t i = 2; i + 4 < jpeg.size() && renamed == 0; ++i) {
        if (jpeg[i] != 0xFF || jpeg[i + 1] != 0xC4) continue;
        const std::size_t end = i + 2 + ((std::size_t(jpeg[i + 2]) << 8) | jpeg[i + 3]);
        for (std::size_t t = i + 4; t + 17 <= end;) {  // each table: class byte, 16 counts, symbols
            if (jpeg[t] == 0x10) jpeg[t] = 0x12, ++renamed;
            std::size_t codes = 0;
            for (int k = 1; k <= 16; ++k) codes += jpeg[t + k];
            t += 17 + codes;
        }
    }
    REQUIRE(renamed == 1);
    CHECK(jpeg_defect(jpeg.data(), jpeg.size()).find("uses a Huffman table (DC 0, AC 0) that no DHT segment defined") !=
          std::string::npos);
    CHECK(error_of(jpeg).find("truncated or corrupt JPEG") != std::string::npos);
    // A progressive JPEG's refinement and AC scans name no DC table: those pass (below, the
    // VOC sample's 1,500 JPEGs and the shapes set all pass the gate).
}

TEST_CASE("an image over the pixel limit is refused from its header") {
    // 8192 x 8192: each side within 16384, but 64 Mpx, twice kMaxImagePixels.
    std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0,   0, 0,    13,
                                     'I',  'H', 'D', 'R', 0,    0,    0x20, 0,    0,   0, 0x20, 0,
                                     8,    2,   0,   0,   0,    0,    0,    0,    0,   0, 0,    0,
                                     0,    'I', 'E', 'N', 'D',  0xAE, 0x42, 0x60, 0x82};
    CHECK(error_of(png).find("more than the limit of 33554432 pixels") != std::string::npos);
}

TEST_CASE("a picture that cannot be written (a full disk) is an Error naming the file and the cause") {
    focal::test::TempDir dir;
    const Image im = gradient(64, 64);
    focal::testing::FileSizeLimit limit(100);
    if (!limit.active()) {
        MESSAGE("skipped: RLIMIT_FSIZE cannot be lowered here");
        return;
    }
    CHECK_THROWS_WITH_AS(save_png(im, dir / "a.png"),
                         doctest::Contains(("cannot write " + (dir / "a.png") + ": File too large").c_str()),
                         focal::Error);
    CHECK_THROWS_WITH_AS(save_jpeg(im, dir / "a.jpg"),
                         doctest::Contains(("cannot write " + (dir / "a.jpg") + ": File too large").c_str()),
                         focal::Error);
    CHECK(!std::filesystem::exists(dir / "a.png"));  // no half-written picture left
    CHECK(!std::filesystem::exists(dir / "a.jpg"));
}

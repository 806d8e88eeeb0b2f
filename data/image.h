// 8-bit RGB images in memory (interleaved HWC), and their files (through stb_image).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace focal::data {

struct Image {
    int width = 0, height = 0, channels = 3;
    std::vector<std::uint8_t> pixels;  // (H, W, C), row-major

    Image() = default;
    Image(int w, int h, int c = 3, std::uint8_t fill = 0)
        : width(w), height(h), channels(c), pixels(std::size_t(w) * h * c, fill) {}

    bool empty() const { return pixels.empty(); }
    std::uint8_t* at(int x, int y) { return &pixels[(std::size_t(y) * width + x) * channels]; }
    const std::uint8_t* at(int x, int y) const { return &pixels[(std::size_t(y) * width + x) * channels]; }
};

// Larger sides are refused before decoding, so a hostile header cannot ask for gigabytes.
constexpr int kMaxImageSide = 16384;

// The whole file; throws Error("[image] cannot read PATH: reason").
std::vector<std::uint8_t> read_file(const std::string& path);

// Empty when the JPEG runs to its end-of-image marker; otherwise why not ("cut short in the
// image data"). stb_image decodes a truncated JPEG without complaint (the missing rows come
// out grey), so this walk over the JPEG markers is what catches a half-copied file.
std::string jpeg_defect(const std::uint8_t* data, std::size_t size);

// Decodes JPEG/PNG/BMP/... bytes to RGB; `name` only labels errors. Throws on a truncated,
// corrupt or oversized image.
Image decode_image(const std::uint8_t* data, std::size_t size, const std::string& name);
Image load_image(const std::string& path);

// Width and height from the header alone (no decode); throws like load_image.
struct ImageHeader {
    int width = 0, height = 0, channels = 0;
};
ImageHeader read_image_header(const std::string& path);

// Reads the whole file and checks what decoding would: a complete JPEG, a readable header,
// a sane size. Cheaper than load_image (no pixel decode); throws like it.
ImageHeader verify_image_file(const std::string& path);

std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality = 90);
void save_jpeg(const Image& image, const std::string& path, int quality = 90);
void save_png(const Image& image, const std::string& path);

// Resampled to w x h with a triangle (bilinear) filter that widens when shrinking, so
// downscaling averages instead of aliasing; edges clamp. Pixel centres map as
// (x + .5) * w / W - .5. Our own separable kernel (resize.cpp): stb_image_resize computes the
// same filter about 5x slower, and bench_loader showed it dominating the loader's time.
Image resize(const Image& image, int w, int h);
// The same through stb_image_resize: the reference that resize() is tested against.
Image resize_stb(const Image& image, int w, int h);

}  // namespace focal::data

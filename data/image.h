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

// Larger images are refused from the header, before decoding, so a hostile header cannot
// ask for gigabytes: a side over 16384 px, or over 2^25 pixels (about 33 Mpx, e.g.
// 6700 x 5000). Decoding one within the limits allocates at most about 24 bytes per pixel
// (docs/testing.md, "Allocation bounds").
constexpr int kMaxImageSide = 16384;
constexpr long long kMaxImagePixels = 1LL << 25;

// The formats focal opens: JPEG (FF D8 FF) and PNG (89 'PNG' 0D 0A 1A 0A), recognised by
// their first bytes, never by the file's name. stb_image can read more, but focal compiles
// only these two decoders (data/stb_impl.cpp) and refuses the rest by content:
//   BMP, TGA, PNM, PIC   no compression, rare in detection data, and the decoders with
//                        stb's longest history of memory-safety bugs; TGA has no magic
//                        bytes at all, so stb guesses it from any junk it cannot place;
//   GIF                  a palette of 256 colours and animation (stb takes frame one);
//   PSD                  a layered editing format (stb reads only the flattened copy);
//   HDR                  floating-point radiance, whose tone-mapping to 8 bits changes what
//                        the pixels mean.
// Convert such files once (e.g. `convert in.bmp out.png`) rather than widen what a dataset
// folder may feed the decoder. Returns "JPEG" or "PNG"; otherwise throws Error naming the
// file and, when recognised, the format refused ("[image] a.jpg: a BMP file; focal reads
// JPEG and PNG").
std::string image_format(const std::uint8_t* data, std::size_t size, const std::string& name);

// The whole file; throws Error("[image] cannot read PATH: reason").
std::vector<std::uint8_t> read_file(const std::string& path);

// Empty when the JPEG runs to its end-of-image marker; otherwise why not ("cut short in the
// image data"). stb_image decodes a truncated JPEG without complaint (the missing rows come
// out grey), so this walk over the JPEG markers is what catches a half-copied file.
std::string jpeg_defect(const std::uint8_t* data, std::size_t size);

// Empty when the PNG's chunks each fit in the file, up to its IEND chunk; otherwise why not
// ("chunk IDAT of 1347616790 bytes runs past the end of the file"). stb_image allocates a
// chunk's declared length before reading it, so without this walk a 79-byte file could make
// it allocate gigabytes (found by fuzz/fuzz_image.cpp).
std::string png_defect(const std::uint8_t* data, std::size_t size);

// Decodes JPEG or PNG bytes to RGB; `name` only labels errors. Throws on another format, a
// truncated, corrupt or oversized image. Success guarantees width and height within the
// limits above and width * height * 3 pixels.
Image decode_image(const std::uint8_t* data, std::size_t size, const std::string& name);
Image load_image(const std::string& path);

// Width and height from the header alone (no decode); throws like load_image.
struct ImageHeader {
    int width = 0, height = 0, channels = 0;
};
ImageHeader read_image_header(const std::string& path);
// The same from bytes in memory, with the checks of verify_image_file (format, a complete
// JPEG, the limits); what decode_image would find, without decoding.
ImageHeader parse_image_header(const std::uint8_t* data, std::size_t size, const std::string& name);

// Reads the whole file and checks what decoding would: a complete JPEG, a readable header,
// a sane size. Cheaper than load_image (no pixel decode); throws like it.
ImageHeader verify_image_file(const std::string& path);

std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality = 90);
// Write failures (a full disk, a file-size limit) throw Error naming the file and the cause;
// the partial file is removed.
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

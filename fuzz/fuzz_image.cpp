// libFuzzer target for the image gate and decoder (data/image.cpp): image_format, jpeg_defect, png_defect,
// parse_image_header (what verify_image_file and the dataset's checks run) and decode_image,
// with stb_image compiled in as focal builds it (JPEG and PNG only, data/stb_impl.cpp). Any
// input must either throw focal::Error or keep the promise; anything else (another exception,
// a sanitizer report, a broken promise, an allocation over -malloc_limit_mb) is a finding.
// The promise of a successful decode:
//   - the bytes start like a JPEG or a PNG; a JPEG runs to its end-of-image marker, a PNG's
//     chunks each fit in the file up to IEND;
//   - the header read without decoding gives the same width and height;
//   - width and height are in [1, kMaxImageSide], width * height <= kMaxImagePixels, and the
//     image holds width * height * 3 bytes.
#include <cstdint>
#include <string>

#include "alloc_bound.h"
#include "data/image.h"
#include "engine/error.h"

using namespace focal::data;

namespace {

constexpr std::size_t kImageBytesPerInputByte = 3100, kImageBytesPerPixel = 24;
constexpr long long kDecodedPixels = 1LL << 22;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string defect = jpeg_defect(data, size);  // any bytes: must stay inside them
    std::string format;
    try {
        format = image_format(data, size, "fuzz.img");
    } catch (const focal::Error&) {}
    ImageHeader header;
    bool header_ok = true;
    Image image;
    {
        // Bounded by the input (a PNG's deflate stream may expand 1032:1) and by the pixels a
        // header within the limits declares (docs/testing.md, "Allocation bounds").
        focal::fuzz::AllocationBound bound(size, kImageBytesPerInputByte);
        try {
            header = parse_image_header(data, size, "fuzz.img");
            // JPEG decodes whole blocks: up to 32 x 32 px with 4:1 subsampling.
            const std::size_t w = (std::size_t(header.width) + 31) / 32 * 32,
                              h = (std::size_t(header.height) + 31) / 32 * 32;
            bound.raise(kImageBytesPerPixel * w * h);
        } catch (const focal::Error&) {
            header_ok = false;
        }
        // A header within the limits but over 4 Mpx is not decoded: that takes seconds under
        // the sanitizers (a timeout, not a finding) and runs the same code as a small image.
        if (header_ok && static_cast<long long>(header.width) * header.height > kDecodedPixels) return 0;
        try {
            image = decode_image(data, size, "fuzz.img");
        } catch (const focal::Error&) {
            return 0;
        }
    }
    if (format != "JPEG" && format != "PNG") __builtin_trap();
    if (format == "JPEG" && !defect.empty()) __builtin_trap();
    if (format == "PNG" && !png_defect(data, size).empty()) __builtin_trap();
    if (!header_ok || header.width != image.width || header.height != image.height) __builtin_trap();
    if (image.width < 1 || image.height < 1 || image.width > kMaxImageSide || image.height > kMaxImageSide)
        __builtin_trap();
    if (static_cast<long long>(image.width) * image.height > kMaxImagePixels) __builtin_trap();
    if (image.channels != 3 || image.pixels.size() != std::size_t(image.width) * image.height * 3) __builtin_trap();
    return 0;
}

#include "data/image.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>

#include "engine/error.h"

namespace focal::data {

std::vector<std::uint8_t> read_file(const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) fail("[image] cannot read ", path, ": ", std::strerror(errno));
    std::vector<std::uint8_t> bytes;
    std::uint8_t chunk[1 << 16];
    std::size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, file.get())) > 0)
        bytes.insert(bytes.end(), chunk, chunk + n);
    if (std::ferror(file.get())) fail("[image] cannot read ", path, ": read error");
    return bytes;
}

std::string jpeg_defect(const std::uint8_t* d, std::size_t n) {
    if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return "not a JPEG (no start-of-image marker)";
    std::size_t i = 2;
    while (true) {
        if (i + 1 >= n) return "cut short: no end-of-image marker";
        if (d[i] != 0xFF) return "corrupt: expected a marker at byte " + std::to_string(i);
        const std::uint8_t m = d[i + 1];
        if (m == 0xFF) {
            ++i;
            continue;
        }                          // fill byte before a marker
        if (m == 0xD9) return "";  // EOI
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
            i += 2;
            continue;
        }  // no length field
        if (i + 3 >= n) return "cut short in a header segment";
        const std::size_t length = (std::size_t(d[i + 2]) << 8) | d[i + 3];
        if (length < 2)
            return "corrupt: segment length " + std::to_string(length) + " at byte " + std::to_string(i);
        i += 2 + length;
        if (i > n) return "cut short in a header segment";
        if (m != 0xDA) continue;
        // After SOS comes entropy-coded data, in which 0xFF is stuffed as FF 00 and restart
        // markers FF D0..D7 may appear; any other FF xx ends it.
        while (i + 1 < n && !(d[i] == 0xFF && d[i + 1] != 0x00 && d[i + 1] != 0xFF &&
                              !(d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7)))
            ++i;
        if (i + 1 >= n) return "cut short in the image data";
    }
}

namespace {

void check_dimensions(int w, int h, const std::string& name) {
    check(w > 0 && h > 0, "[image] ", name, ": empty image (", w, "x", h, ")");
    check(w <= kMaxImageSide && h <= kMaxImageSide, "[image] ", name, ": ", w, "x", h, " is larger than the ",
          kMaxImageSide, " px limit");
}

}  // namespace

Image decode_image(const std::uint8_t* data, std::size_t size, const std::string& name) {
    check(size > 0, "[image] ", name, ": empty file");
    check(size < (std::size_t(1) << 31), "[image] ", name, ": file too large");
    if (size >= 2 && data[0] == 0xFF && data[1] == 0xD8) {
        const std::string defect = jpeg_defect(data, size);
        check(defect.empty(), "[image] ", name, ": truncated or corrupt JPEG: ", defect);
    }
    int w = 0, h = 0, c = 0;
    if (!stbi_info_from_memory(data, int(size), &w, &h, &c))
        fail("[image] ", name, ": cannot decode (", stbi_failure_reason(), ")");
    check_dimensions(w, h, name);
    std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(data, int(size), &w, &h, &c, 3),
                                                     &stbi_image_free);
    if (!pixels) fail("[image] ", name, ": cannot decode (", stbi_failure_reason(), ")");
    Image image;
    image.width = w;
    image.height = h;
    image.channels = 3;
    image.pixels.assign(pixels.get(), pixels.get() + std::size_t(w) * h * 3);
    return image;
}

Image load_image(const std::string& path) {
    const std::vector<std::uint8_t> bytes = read_file(path);
    return decode_image(bytes.data(), bytes.size(), path);
}

ImageHeader read_image_header(const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) fail("[image] cannot read ", path, ": ", std::strerror(errno));
    ImageHeader header;
    if (!stbi_info_from_file(file.get(), &header.width, &header.height, &header.channels))
        fail("[image] ", path, ": not a readable image (", stbi_failure_reason(), ")");
    check_dimensions(header.width, header.height, path);
    return header;
}

ImageHeader verify_image_file(const std::string& path) {
    const std::vector<std::uint8_t> bytes = read_file(path);
    check(!bytes.empty(), "[image] ", path, ": empty file");
    check(bytes.size() < (std::size_t(1) << 31), "[image] ", path, ": file too large");
    if (bytes.size() >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8) {
        const std::string defect = jpeg_defect(bytes.data(), bytes.size());
        check(defect.empty(), "[image] ", path, ": truncated or corrupt JPEG: ", defect);
    }
    ImageHeader header;
    if (!stbi_info_from_memory(bytes.data(), int(bytes.size()), &header.width, &header.height,
                               &header.channels))
        fail("[image] ", path, ": not a readable image (", stbi_failure_reason(), ")");
    check_dimensions(header.width, header.height, path);
    return header;
}

namespace {

void append_bytes(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(context);
    auto* bytes = static_cast<std::uint8_t*>(data);
    out->insert(out->end(), bytes, bytes + size);
}

void write_bytes(const std::vector<std::uint8_t>& bytes, const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!file) fail("[image] cannot write ", path, ": ", std::strerror(errno));
    if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size())
        fail("[image] cannot write ", path, ": ", std::strerror(errno));
}

}  // namespace

std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality) {
    check(!image.empty(), "[image] encode_jpeg: empty image");
    std::vector<std::uint8_t> bytes;
    if (!stbi_write_jpg_to_func(&append_bytes, &bytes, image.width, image.height, image.channels,
                                image.pixels.data(), quality))
        fail("[image] encode_jpeg: stb_image_write failed");
    return bytes;
}

void save_jpeg(const Image& image, const std::string& path, int quality) {
    write_bytes(encode_jpeg(image, quality), path);
}

void save_png(const Image& image, const std::string& path) {
    check(!image.empty(), "[image] save_png: empty image");
    std::vector<std::uint8_t> bytes;
    if (!stbi_write_png_to_func(&append_bytes, &bytes, image.width, image.height, image.channels,
                                image.pixels.data(), image.width * image.channels))
        fail("[image] ", path, ": stb_image_write failed");
    write_bytes(bytes, path);
}

Image resize_stb(const Image& image, int w, int h) {
    check(!image.empty() && w > 0 && h > 0, "[image] resize: ", image.width, "x", image.height, " to ", w,
          "x", h);
    Image out(w, h, image.channels);
    if (w == image.width && h == image.height) return image;
    if (!stbir_resize_uint8_generic(image.pixels.data(), image.width, image.height, 0, out.pixels.data(), w,
                                    h, 0, image.channels, STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP,
                                    STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, nullptr))
        fail("[image] resize: stb_image_resize failed");
    return out;
}

}  // namespace focal::data

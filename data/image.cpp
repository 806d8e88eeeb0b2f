#include "data/image.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>

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
    while ((n = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
    if (std::ferror(file.get())) fail("[image] cannot read ", path, ": read error");
    return bytes;
}

std::string jpeg_defect(const std::uint8_t* d, std::size_t n) {
    if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return "not a JPEG (no start-of-image marker)";
    std::size_t i = 2;
    bool huffman_defined[2][4] = {};  // [class: 0 DC, 1 AC][table id], by the DHT segments so far
    bool progressive = false;
    while (true) {
        if (i + 1 >= n) return "cut short: no end-of-image marker";
        if (d[i] != 0xFF) return "corrupt: expected a marker at byte " + std::to_string(i);
        const std::uint8_t m = d[i + 1];
        // A fill byte before a marker.
        if (m == 0xFF) {
            ++i;
            continue;
        }
        if (m == 0xD9) return "";  // EOI
        // Markers without a length field.
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
            i += 2;
            continue;
        }
        if (i + 3 >= n) return "cut short in a header segment";
        const std::size_t length = (std::size_t(d[i + 2]) << 8) | d[i + 3];
        if (length < 2) return "corrupt: segment length " + std::to_string(length) + " at byte " + std::to_string(i);
        if (i + 2 + length > n) return "cut short in a header segment";
        if (m == 0xC4) {  // DHT: each table is a class byte, 16 counts, then as many symbols
            // stb_image 2.27 writes past its 257-entry size table when the counts add up to
            // more than 256 (found by fuzz/fuzz_image.cpp), so such a table is refused here.
            for (std::size_t t = i + 4, end = i + 2 + length; t < end;) {
                std::size_t codes = 0;
                for (std::size_t k = 1; k <= 16 && t + k < end; ++k) codes += d[t + k];
                if (end - t < 17 || codes > 256 || end - t - 17 < codes)
                    return "corrupt: Huffman table at byte " + std::to_string(t) + " (" + std::to_string(codes) +
                           " codes)";
                if ((d[t] >> 4) < 2 && (d[t] & 15) < 4) huffman_defined[d[t] >> 4][d[t] & 15] = true;
                t += 17 + codes;
            }
        }
        if (m == 0xC2) progressive = true;
        if (m == 0xDA) {
            // SOS: a count, then per component its id and (DC table << 4 | AC table), then the
            // spectral selection Ss, Se and the approximation bits Ah << 4 | Al. stb_image 2.27
            // decodes with a table no DHT defined, reading its uninitialised limits past their
            // end (found by fuzz/fuzz_image.cpp), so a scan must name defined tables: the DC
            // and AC ones in a baseline scan; in a progressive one, the DC table in a first DC
            // scan, the AC table in an AC scan.
            const std::size_t count = length >= 3 ? d[i + 4] : 0;
            if (length < 6 + 2 * count) return "corrupt: scan header at byte " + std::to_string(i);
            const std::uint8_t ss = d[i + 5 + 2 * count], ah = d[i + 7 + 2 * count] >> 4;
            for (std::size_t k = 0; k < count; ++k) {
                const std::uint8_t tables = d[i + 6 + 2 * k], dc = tables >> 4, ac = tables & 15;
                const bool needs_dc = !progressive || (ss == 0 && ah == 0), needs_ac = !progressive || ss > 0;
                if ((needs_dc && (dc > 3 || !huffman_defined[0][dc])) ||
                    (needs_ac && (ac > 3 || !huffman_defined[1][ac])))
                    return "corrupt: the scan at byte " + std::to_string(i) + " uses a Huffman table (DC " +
                           std::to_string(dc) + ", AC " + std::to_string(ac) + ") that no DHT segment defined";
            }
        }
        i += 2 + length;
        if (m != 0xDA) continue;
        // After SOS comes entropy-coded data, in which 0xFF is stuffed as FF 00 and restart
        // markers FF D0..D7 may appear; any other FF xx ends it.
        while (i + 1 < n &&
               !(d[i] == 0xFF && d[i + 1] != 0x00 && d[i + 1] != 0xFF && !(d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7)))
            ++i;
        if (i + 1 >= n) return "cut short in the image data";
    }
}

std::string png_defect(const std::uint8_t* d, std::size_t n) {
    if (n < 8 || std::memcmp(d, "\x89PNG\r\n\x1A\n", 8) != 0) return "not a PNG (no signature)";
    std::size_t i = 8;
    while (true) {
        if (n - i < 12) return "cut short: no IEND chunk";
        const std::size_t length =
            (std::size_t(d[i]) << 24) | (std::size_t(d[i + 1]) << 16) | (std::size_t(d[i + 2]) << 8) | d[i + 3];
        const std::string type(reinterpret_cast<const char*>(d + i + 4), 4);
        if (length > n - i - 12)
            return "chunk " + type + " of " + std::to_string(length) + " bytes runs past the end of the file";
        if (type == "IEND") return "";
        i += 12 + length;
    }
}

namespace {

bool starts_with(const std::uint8_t* data, std::size_t size, std::string_view magic) {
    return size >= magic.size() && std::memcmp(data, magic.data(), magic.size()) == 0;
}

// What a refused file looks like, from its first bytes; "" when unknown.
std::string refused_format(const std::uint8_t* d, std::size_t n) {
    if (starts_with(d, n, "BM")) return "a BMP file";
    if (starts_with(d, n, "GIF8")) return "a GIF file";
    if (starts_with(d, n, "8BPS")) return "a PSD file";
    if (starts_with(d, n, "#?RADIANCE") || starts_with(d, n, "#?RGBE")) return "an HDR file";
    if (starts_with(d, n, "\x53\x80\xF6\x34")) return "a PIC file";
    if (n >= 2 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7') return "a PNM file";
    if (starts_with(d, n, "RIFF")) return "a RIFF (WebP?) file";
    if (starts_with(d, n, "II*") || starts_with(d, n, "MM\0*")) return "a TIFF file";
    return "";
}

void check_dimensions(int w, int h, const std::string& name) {
    check(w > 0 && h > 0, "[image] ", name, ": empty image (", w, "x", h, ")");
    check(w <= kMaxImageSide && h <= kMaxImageSide, "[image] ", name, ": ", w, "x", h, " is larger than the ",
          kMaxImageSide, " px limit");
    check(static_cast<long long>(w) * h <= kMaxImagePixels, "[image] ", name, ": ", w, "x", h,
          " is more than the limit of ", kMaxImagePixels, " pixels");
}

// The checks every reader makes before stb_image sees the bytes.
void check_bytes(const std::uint8_t* data, std::size_t size, const std::string& name) {
    check(size > 0, "[image] ", name, ": empty file");
    check(size < (std::size_t(1) << 31), "[image] ", name, ": file too large");
    const std::string format = image_format(data, size, name);
    const std::string defect = format == "JPEG" ? jpeg_defect(data, size) : png_defect(data, size);
    check(defect.empty(), "[image] ", name, ": truncated or corrupt ", format, ": ", defect);
}

}  // namespace

std::string image_format(const std::uint8_t* data, std::size_t size, const std::string& name) {
    if (starts_with(data, size, "\xFF\xD8\xFF")) return "JPEG";
    if (starts_with(data, size, "\x89PNG\r\n\x1A\n")) return "PNG";
    const std::string what = refused_format(data, size);
    fail("[image] ", name, ": ", what.empty() ? "not an image focal reads" : what, "; focal reads JPEG and PNG",
         what.empty() ? " (recognised by their first bytes, whatever the file's name)" : " (convert it)");
}

Image decode_image(const std::uint8_t* data, std::size_t size, const std::string& name) {
    const ImageHeader header = parse_image_header(data, size, name);
    int w = 0, h = 0, c = 0;
    std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(data, int(size), &w, &h, &c, 3),
                                                     &stbi_image_free);
    if (!pixels) fail("[image] ", name, ": cannot decode (", stbi_failure_reason(), ")");
    check(w == header.width && h == header.height, "[image] ", name, ": decoded as ", w, "x", h,
          " but its header says ", header.width, "x", header.height);
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
    std::uint8_t magic[16];
    const std::size_t n = std::fread(magic, 1, sizeof magic, file.get());
    check(n > 0, "[image] ", path, ": empty file");
    image_format(magic, n, path);  // before stb_image sees the file
    check(std::fseek(file.get(), 0, SEEK_SET) == 0, "[image] cannot read ", path, ": ", std::strerror(errno));
    ImageHeader header;
    if (!stbi_info_from_file(file.get(), &header.width, &header.height, &header.channels))
        fail("[image] ", path, ": not a readable image (", stbi_failure_reason(), ")");
    check_dimensions(header.width, header.height, path);
    return header;
}

ImageHeader parse_image_header(const std::uint8_t* data, std::size_t size, const std::string& name) {
    check_bytes(data, size, name);
    ImageHeader header;
    if (!stbi_info_from_memory(data, int(size), &header.width, &header.height, &header.channels))
        fail("[image] ", name, ": not a readable image (", stbi_failure_reason(), ")");
    check_dimensions(header.width, header.height, name);
    return header;
}

ImageHeader verify_image_file(const std::string& path) {
    const std::vector<std::uint8_t> bytes = read_file(path);
    return parse_image_header(bytes.data(), bytes.size(), path);
}

namespace {

void append_bytes(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(context);
    auto* bytes = static_cast<std::uint8_t*>(data);
    out->insert(out->end(), bytes, bytes + size);
}

// Writes `bytes` to `path`; any failure, the final flush at fclose included (a full disk, a
// file-size limit), throws naming the file and the cause, and removes the partial file.
void write_bytes(const std::vector<std::uint8_t>& bytes, const std::string& path) {
    FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) fail("[image] cannot write ", path, ": ", std::strerror(errno));
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
    int err = written ? 0 : errno;
    if (std::fclose(file) != 0 && written) err = errno;
    if (!written || err != 0) {
        std::remove(path.c_str());
        fail("[image] cannot write ", path, ": ", std::strerror(err != 0 ? err : EIO));
    }
}

}  // namespace

std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality) {
    check(!image.empty(), "[image] encode_jpeg: empty image");
    std::vector<std::uint8_t> bytes;
    if (!stbi_write_jpg_to_func(&append_bytes, &bytes, image.width, image.height, image.channels, image.pixels.data(),
                                quality))
        fail("[image] encode_jpeg: stb_image_write failed");
    return bytes;
}

void save_jpeg(const Image& image, const std::string& path, int quality) {
    write_bytes(encode_jpeg(image, quality), path);
}

void save_png(const Image& image, const std::string& path) {
    check(!image.empty(), "[image] save_png: empty image");
    std::vector<std::uint8_t> bytes;
    if (!stbi_write_png_to_func(&append_bytes, &bytes, image.width, image.height, image.channels, image.pixels.data(),
                                image.width * image.channels))
        fail("[image] ", path, ": stb_image_write failed");
    write_bytes(bytes, path);
}

Image resize_stb(const Image& image, int w, int h) {
    check(!image.empty() && w > 0 && h > 0, "[image] resize: ", image.width, "x", image.height, " to ", w, "x", h);
    Image out(w, h, image.channels);
    if (w == image.width && h == image.height) return image;
    if (!stbir_resize_uint8_generic(image.pixels.data(), image.width, image.height, 0, out.pixels.data(), w, h, 0,
                                    image.channels, STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP,
                                    STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, nullptr))
        fail("[image] resize: stb_image_resize failed");
    return out;
}

}  // namespace focal::data

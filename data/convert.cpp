#include "data/convert.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/coco.h"
#include "data/voc.h"
#include "data/yolo.h"
#include "engine/error.h"

namespace focal::data {
namespace fs = std::filesystem;

std::vector<std::string> list_splits(const std::string& path, const DatasetOptions& options) {
    const DatasetFormat format = options.format.empty() ? detect_format(path) : parse_format(options.format);
    if (format == DatasetFormat::Voc) return voc_splits(resolve_voc_root(path, options.year));
    if (format == DatasetFormat::Yolo) return yolo_splits(path);
    if (fs::is_regular_file(path)) return {};  // one json file: no splits of its own
    std::vector<std::string> names;
    for (const auto& [split, file] : find_coco_files(path)) names.push_back(split);
    return names;
}

namespace {

void write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
    check(bool(out.flush()), "[convert] cannot write ", path.string());
}

// True when `inner` is `outer` or lies inside it.
bool is_within(const fs::path& inner, const fs::path& outer) {
    const fs::path a = fs::weakly_canonical(inner), b = fs::weakly_canonical(outer);
    auto ia = a.begin(), ib = b.begin();
    for (; ib != b.end() && !ib->empty(); ++ia, ++ib)
        if (ia == a.end() || *ia != *ib) return false;
    return true;
}

// Each item's image name in the new dataset: its id (VOC: '/' made '_', as VOC ids are file
// names) plus its image's extension.
std::vector<std::string> image_names(const Dataset& ds, DatasetFormat to) {
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < ds.size(); ++i) {
        std::string id = ds.annotation(i).id;
        if (to == DatasetFormat::Voc) std::replace(id.begin(), id.end(), '/', '_');
        const std::string name = id + fs::path(ds.image_path(i)).extension().string();
        check(seen.insert(name).second, "[convert] two images would both be named '", name, "' (", ds.image_path(i),
              ")");
        names.push_back(name);
    }
    return names;
}

std::string yaml_quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

}  // namespace

ConvertResult convert_dataset(const std::string& in, const ConvertOptions& options) {
    const DatasetFormat to = parse_format(options.to);
    check(!options.out.empty(), "[convert] no output folder (--out)");
    const fs::path out(options.out);
    const DatasetFormat from = options.input.format.empty() ? detect_format(in) : parse_format(options.input.format);
    const fs::path input_folder = fs::is_regular_file(in) ? fs::path(in).parent_path() : fs::path(in);
    check(!is_within(out, input_folder) && !is_within(input_folder, out), "[convert] --out ", options.out,
          " overlaps the input ", in, "; pick a folder outside it");
    check(!fs::exists(out) || options.force, "[convert] ", options.out, " exists; --force replaces it");

    // Every image of the conversion, then each split's members among them.
    DatasetOptions io = options.input;
    io.format = format_name(from);
    const Dataset ds = Dataset::open(in, io);
    std::vector<std::string> splits;
    if (io.split == "all") splits = list_splits(in, io);
    else splits = {io.split};
    std::map<std::string, std::size_t> index_of;
    for (std::size_t i = 0; i < ds.size(); ++i) index_of[fs::path(ds.image_path(i)).lexically_normal().string()] = i;
    std::map<std::string, std::vector<std::size_t>> members;
    for (const std::string& split : splits) {
        if (io.split != "all") {
            for (std::size_t i = 0; i < ds.size(); ++i) members[split].push_back(i);
            continue;
        }
        DatasetOptions so = io;
        so.split = split;
        so.classes = "";
        so.skip_bad = true;  // the split's bad entries were reported by the full read
        for (const std::string& name : ds.classes()) so.classes += (so.classes.empty() ? "" : ",") + name;
        try {
            const Dataset part = Dataset::open(in, so);
            for (std::size_t i = 0; i < part.size(); ++i) {
                const auto it = index_of.find(fs::path(part.image_path(i)).lexically_normal().string());
                if (it != index_of.end()) members[split].push_back(it->second);
            }
        } catch (const Error&) {
            // A split with no usable image: not carried over.
        }
    }

    const fs::path temp = out.parent_path() / ("." + out.filename().string() + ".tmp-" + std::to_string(::getpid()));
    fs::remove_all(temp);
    fs::create_directories(temp);
    ConvertResult result;
    result.warnings = ds.warnings();
    try {
        const std::vector<std::string> names = image_names(ds, to);
        const fs::path image_dir = temp / (to == DatasetFormat::Voc ? "JPEGImages" : "images");
        for (std::size_t i = 0; i < ds.size(); ++i) {
            fs::create_directories((image_dir / names[i]).parent_path());
            fs::copy_file(ds.image_path(i), image_dir / names[i]);
            result.objects += int(ds.annotation(i).objects.size());
        }
        result.images = int(ds.size());
        const auto stem = [&](std::size_t i) {
            const fs::path p(names[i]);
            return (p.parent_path() / p.stem()).generic_string();
        };

        if (to == DatasetFormat::Voc) {
            std::string classes;
            for (const std::string& c : ds.classes()) classes += c + "\n";
            write_text(temp / "classes.txt", classes);
            for (std::size_t i = 0; i < ds.size(); ++i) {
                Annotation a = ds.annotation(i);
                a.filename = names[i];
                write_text(temp / "Annotations" / (stem(i) + ".xml"), write_voc_annotation(a));
            }
            for (const auto& [split, items] : members) {
                std::string list;
                for (std::size_t i : items) list += stem(i) + "\n";
                write_text(temp / "ImageSets" / "Main" / (split + ".txt"), list);
            }
        } else if (to == DatasetFormat::Coco) {
            const std::vector<std::int64_t> ids = coco_image_ids(ds);
            std::map<std::string, std::vector<std::size_t>> files = members;
            if (files.empty()) {
                for (std::size_t i = 0; i < ds.size(); ++i) files["all"].push_back(i);
            }
            for (const auto& [split, items] : files) {
                std::vector<Annotation> images;
                std::vector<std::string> file_names;
                std::vector<std::int64_t> image_ids;
                for (std::size_t i : items) {
                    images.push_back(ds.annotation(i));
                    file_names.push_back(names[i]);
                    image_ids.push_back(ids[i]);
                }
                write_text(temp / "annotations" / ("instances_" + split + ".json"),
                           write_coco_json(images, file_names, image_ids, ds.classes(), ds.category_ids()));
            }
        } else {
            std::string yaml = "# written by focal convert: YOLO txt labels (docs/data.md)\n";
            for (const auto& [split, items] : members) {
                std::string list;
                for (std::size_t i : items) list += "./images/" + names[i] + "\n";
                write_text(temp / (split + ".txt"), list);
                yaml += yaml_quoted(split) + ": " + yaml_quoted(split + ".txt") + "\n";
            }
            yaml += "nc: " + std::to_string(ds.classes().size()) + "\nnames:\n";
            for (std::size_t k = 0; k < ds.classes().size(); ++k)
                yaml += "  " + std::to_string(k) + ": " + yaml_quoted(ds.classes()[k]) + "\n";
            write_text(temp / "data.yaml", yaml);
            for (std::size_t i = 0; i < ds.size(); ++i) {
                const Annotation& a = ds.annotation(i);
                std::vector<Object> plain, ignore;
                for (const Object& o : a.objects) (o.difficult ? ignore : plain).push_back(o);
                const fs::path label = temp / "labels" / (stem(i) + ".txt");
                write_text(label, write_yolo_labels(plain, a.width, a.height));
                if (!ignore.empty())
                    write_text(fs::path(label).replace_extension(".ignore.txt"),
                               write_yolo_labels(ignore, a.width, a.height));
            }
        }
        for (const auto& [split, items] : members) result.splits.push_back(split);
    } catch (const fs::filesystem_error& e) {
        std::error_code ec;
        fs::remove_all(temp, ec);
        fail("[convert] ", e.what());
    } catch (...) {
        std::error_code ec;
        fs::remove_all(temp, ec);
        throw;
    }
    // Complete: put it in place. An old `out` (force) is moved aside first, then removed.
    if (fs::exists(out)) {
        const fs::path old = out.parent_path() / ("." + out.filename().string() + ".old-" + std::to_string(::getpid()));
        fs::rename(out, old);
        fs::rename(temp, out);
        fs::remove_all(old);
    } else {
        fs::rename(temp, out);
    }
    return result;
}

}  // namespace focal::data

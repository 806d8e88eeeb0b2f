#include "detector/data_parallel.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "detector/train_config.h"

namespace focal::detector {

namespace {

std::string hex(std::uint64_t h) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
    return text;
}

// The flag of a config.json "train" key, for messages: "lr" -> "--lr".
std::string flag_of(const std::string& key) {
    for (const SettingInfo& s : train_settings())
        if (s.name == key && !s.flag.empty()) return s.flag[0] == '!' ? s.flag.substr(1) : s.flag;
    return key;
}

// A setting's value as the user wrote it: floats (stored as float, printed by JSON as the
// nearest double, 0.019999999552965164) with float's 7 digits, 0.02.
std::string text_of(const nlohmann::json& value) {
    if (!value.is_number_float()) return value.dump();
    std::ostringstream out;
    out.precision(7);
    out << value.get<double>();
    return out.str();
}

// "--lr is 0.02 on rank 1 and 0.01 on rank 0" for the first key where `other` differs.
std::string first_difference(const nlohmann::json& root, const nlohmann::json& other, int rank) {
    for (const auto& [key, value] : root.items()) {
        const auto it = other.find(key);
        if (it == other.end() || *it != value)
            return flag_of(key) + " is " + (it == other.end() ? "absent" : text_of(*it)) + " on rank " +
                   std::to_string(rank) + " and " + text_of(value) + " on rank 0";
    }
    for (const auto& [key, value] : other.items())
        if (!root.contains(key)) return flag_of(key) + " is set on rank " + std::to_string(rank) + " only";
    return "their JSON differs";
}

}  // namespace

DataParallel::DataParallel(Device device, int global_batch, double timeout_seconds)
    : world_(dist::make_collective(device)) {
    world_->set_timeout(timeout_seconds);
    FOCAL_CHECK(global_batch >= size(), "[train] --batch ", global_batch,
                " is the global batch, all ranks together: "
                "it needs at least one image per rank (",
                size(), " ranks)");
}

void DataParallel::check_agreement(const nlohmann::json& settings, const data::Dataset& dataset, std::size_t items) {
    if (size() == 1) return;
    const std::vector<std::string> all = world_->all_gather(settings.dump());
    const nlohmann::json root = nlohmann::json::parse(all[0]);
    for (int r = 1; r < size(); ++r)
        if (all[r] != all[0])
            fail("[train] the ranks disagree on their settings: ",
                 first_difference(root, nlohmann::json::parse(all[r]), r), "; every rank must run the same command");
    std::ostringstream mine;
    mine << hex(dataset_fingerprint(dataset, items)) << " (" << items << " images, " << dataset.classes().size()
         << " classes in " << dataset.root() << ")";
    const std::vector<std::string> data = world_->all_gather(mine.str());
    for (int r = 1; r < size(); ++r)
        if (data[r] != data[0])
            fail("[train] the ranks disagree on the dataset: rank ", r, " reads ", data[r], ", rank 0 reads ", data[0],
                 "; every rank must see the same files");
}

void DataParallel::broadcast_state(Module& model, const Optimizer& optimizer, const std::string& when) {
    if (size() == 1) return;
    // Parameters and optimizer state must agree; the buffers (batch norm's running statistics)
    // follow each rank's own batches unless --sync-bn, and rank 0's are kept, as PyTorch's DDP does.
    const std::uint64_t mine =
        dist::fingerprint(model.named_parameters()) ^ (dist::fingerprint(optimizer.state()) * 31);
    const std::vector<std::string> all = world_->all_gather(hex(mine));
    for (int r = 1; r < size(); ++r)
        FOCAL_CHECK(all[r] == all[0], "[train] ", when, ", rank ", r, "'s model or optimizer state (fingerprint ",
                    all[r], ") differs from rank 0's (", all[0],
                    "): are all ranks the same build of focal, with "
                    "the same BLAS, reading the same checkpoint?");
    for (auto& [name, t] : model.state()) world_->broadcast(t, 0);
}

DataParallel::Divisor DataParallel::loss_divisor(int64_t count) {
    if (size() == 1) return {static_cast<float>(std::max<int64_t>(1, count)), count};
    double total = static_cast<double>(count);
    world_->all_reduce_sum(std::span<double>(&total, 1));
    const int64_t global = static_cast<int64_t>(total);
    return {static_cast<float>(std::max<int64_t>(1, global)) / static_cast<float>(size()), global};
}

DataParallel::StepLoss DataParallel::gather_losses(double total, double cls, double box, int images) {
    if (size() == 1) return {total, cls, box, images, std::isfinite(total) ? -1 : 0};
    const double mine[4] = {total, cls, box, static_cast<double>(images)};
    const std::vector<double> all = world_->all_gather(std::span<const double>(mine, 4));
    StepLoss s;
    for (int r = 0; r < size(); ++r) {
        s.total += all[4 * r] / size(), s.cls += all[4 * r + 1] / size(), s.box += all[4 * r + 2] / size();
        s.images += static_cast<int64_t>(all[4 * r + 3]);
        if (s.bad_rank < 0 && !std::isfinite(all[4 * r])) s.bad_rank = r;
    }
    return s;
}

void DataParallel::watch_gradients(const std::vector<Tensor>& params) {
    if (size() > 1 && !reducer_) reducer_ = std::make_unique<dist::GradientReducer>(*world_, params);
}

void DataParallel::average_gradients(const std::vector<Tensor>& params) {
    if (size() == 1) return;
    watch_gradients(params);
    reducer_->average();
}

void DataParallel::set_overlap(bool on) {
    FOCAL_CHECK(size() == 1 || reducer_, "[dist] set_overlap before the gradients are watched");
    if (reducer_) reducer_->set_overlap(on);
}

std::uint64_t dataset_fingerprint(const data::Dataset& dataset, std::size_t items) {
    std::ostringstream text;
    for (const std::string& name : dataset.classes()) text << name << ',';
    for (std::size_t i = 0; i < std::min(items, dataset.size()); ++i) {
        const data::Annotation& a = dataset.annotation(i);
        text << '\n' << a.id << ' ' << a.width << 'x' << a.height;
        for (const data::Object& o : a.objects)
            text << ' ' << o.label << (o.difficult ? "d" : "") << ':' << o.box.x1 << ',' << o.box.y1 << ',' << o.box.x2
                 << ',' << o.box.y2;
    }
    return dist::fingerprint(text.str());
}

}  // namespace focal::detector

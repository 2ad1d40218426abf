#include "kv_state.h"

#include <cstring>

namespace omnicap {

using namespace ortabi;

namespace {

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        exp--;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Releases the values it holds unless released() was called (exception paths).
struct ValueList {
  const OrtRuntime* rt;
  std::vector<OrtValue*> values;
  ~ValueList() {
    for (OrtValue* v : values) rt->Release(v);
  }
  std::vector<OrtValue*> take() {
    std::vector<OrtValue*> out;
    out.swap(values);
    return out;
  }
};

}  // namespace

std::atomic<int> LiveCounts::sessions{0};
std::atomic<int> LiveCounts::states{0};

SessionHandle::~SessionHandle() {
  LiveCounts::sessions--;
  if (rt == nullptr) return;
  rt->Release(session);
  if (cuda) rt->Release(kvMemory);
}

KvState::KvState(std::shared_ptr<SessionHandle> session, KvConfig config) : s_(std::move(session)), config_(std::move(config)) {
  if (config_.past.size() != config_.present.size() || config_.past.empty()) throw OrtError("KV config needs matching past and present names");
  if (config_.shared && s_->cuda) throw OrtError("the shared KV layout is CPU-only; use the grow layout on CUDA");
  const OrtRuntime* rt = s_->rt;
  binding_ = rt->CreateIoBinding(s_->session);
  try {
    runOptions_ = rt->CreateRunOptions();
    Reset();
  } catch (...) {
    ReleasePast();
    rt->Release(binding_);
    rt->Release(runOptions_);
    throw;
  }
  LiveCounts::states++;
}

KvState::~KvState() {
  LiveCounts::states--;
  ReleasePast();
  s_->rt->Release(binding_);
  s_->rt->Release(runOptions_);
}

void KvState::ReleasePast() {
  for (OrtValue* v : past_) s_->rt->Release(v);
  past_.clear();
}

void KvState::Reset() {
  ReleasePast();
  const std::vector<int64_t> empty{1, config_.kvHeads, 0, config_.headDim};
  for (size_t i = 0; i < config_.past.size(); i++) past_.push_back(s_->rt->AllocTensor(nullptr, empty, config_.kvType));
  length_ = 0;
  capacity_ = 0;
  terminated_ = false;
  s_->rt->Terminate(runOptions_, false);
}

void KvState::Terminate() {
  terminated_ = true;
  s_->rt->Terminate(runOptions_, true);
}

void KvState::Forward(const std::vector<float>& embeds, int64_t seq, std::vector<float>& logits) {
  if (terminated_) throw OrtError("generation was terminated");
  if (seq < 1 || static_cast<int64_t>(embeds.size()) != seq * config_.hidden) throw OrtError("inputs_embeds size does not match seq x hidden");
  if (length_ + seq > config_.maxLength) throw OrtError("KV cache would exceed the model's maximum length");
  if (config_.shared && capacity_ > 0) {
    if (seq != 1) throw OrtError("the shared KV layout takes one token per step after the prefill");
    SharedStep(embeds, logits);
  } else {
    Grow(embeds, seq, logits);
  }
}

void KvState::CopyLogits(OrtValue* v, int64_t seq, std::vector<float>& logits) const {
  const OrtRuntime* rt = s_->rt;
  const std::vector<int64_t> shape = rt->Shape(v);
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  if (shape.empty() || shape.back() != config_.vocab) throw OrtError("logits' last dimension is not the vocabulary size");
  const int64_t rows = count / config_.vocab;
  if (rows != seq && rows != 1) throw OrtError("logits have an unexpected number of positions");
  const int64_t offset = (rows - 1) * config_.vocab;
  logits.resize(static_cast<size_t>(config_.vocab));
  const int type = rt->ElementType(v);
  const void* data = rt->Data(v);
  if (type == kFloat) {
    std::memcpy(logits.data(), static_cast<const float*>(data) + offset, logits.size() * sizeof(float));
  } else if (type == kFloat16) {
    const uint16_t* h = static_cast<const uint16_t*>(data) + offset;
    for (size_t i = 0; i < logits.size(); i++) logits[i] = HalfToFloat(h[i]);
  } else {
    throw OrtError("logits are neither float32 nor float16");
  }
}

void KvState::Grow(const std::vector<float>& embeds, int64_t seq, std::vector<float>& logits) {
  const OrtRuntime* rt = s_->rt;
  const int64_t total = length_ + seq;
  std::vector<float> embedData(embeds);
  std::vector<int64_t> mask(static_cast<size_t>(total), 1);
  std::vector<int64_t> positions(static_cast<size_t>(seq));
  for (int64_t i = 0; i < seq; i++) positions[static_cast<size_t>(i)] = length_ + i;
  ValueList inputs{rt, {}};
  inputs.values.push_back(rt->TensorOver(embedData.data(), embedData.size() * sizeof(float), {1, seq, config_.hidden}, kFloat));
  rt->ClearBindings(binding_);
  rt->BindInput(binding_, config_.embedsName, inputs.values.back());
  if (!config_.maskName.empty()) {
    inputs.values.push_back(rt->TensorOver(mask.data(), mask.size() * sizeof(int64_t), {1, total}, kInt64));
    rt->BindInput(binding_, config_.maskName, inputs.values.back());
  }
  if (!config_.positionsName.empty()) {
    inputs.values.push_back(rt->TensorOver(positions.data(), positions.size() * sizeof(int64_t), {1, seq}, kInt64));
    rt->BindInput(binding_, config_.positionsName, inputs.values.back());
  }
  for (size_t i = 0; i < past_.size(); i++) rt->BindInput(binding_, config_.past[i], past_[i]);
  rt->BindOutputToDevice(binding_, config_.logitsName, rt->cpuMemory());
  for (const std::string& name : config_.present) rt->BindOutputToDevice(binding_, name, s_->kvMemory);
  rt->RunWithBinding(s_->session, runOptions_, binding_);
  ValueList outs{rt, rt->BoundOutputs(binding_)};
  rt->ClearBindings(binding_);
  if (outs.values.size() != 1 + past_.size()) throw OrtError("the run returned an unexpected number of outputs");
  for (size_t i = 1; i < outs.values.size(); i++) {
    const std::vector<int64_t> shape = rt->Shape(outs.values[i]);
    if (shape.size() != 4 || shape[2] != total) throw OrtError("present." + config_.present[i - 1] + " does not hold the expected sequence length");
  }
  CopyLogits(outs.values[0], seq, logits);
  std::vector<OrtValue*> got = outs.take();
  rt->Release(got[0]);
  std::vector<OrtValue*> presents(got.begin() + 1, got.end());
  if (config_.shared) {
    int64_t cap = config_.initialCapacity;
    while (cap < total + 1) cap *= 2;
    if (cap > config_.maxLength) cap = config_.maxLength;
    ValueList owned{rt, presents};  // the prefill's presents, released once copied
    Repack(owned.values, total, total, cap);
  } else {
    ReleasePast();
    past_ = std::move(presents);
  }
  length_ = total;
}

// Fresh [1,H,capacity,D] buffers (zeroed) holding the first `filled` positions of each head of
// `from` (laid out [1,H,fromStride,D]); they become past_, whose old values are released. `from`
// may be past_ itself.
void KvState::Repack(const std::vector<OrtValue*>& from, int64_t fromStride, int64_t filled, int64_t capacity) {
  const OrtRuntime* rt = s_->rt;
  const size_t es = ElementBytes();
  const int64_t H = config_.kvHeads;
  const int64_t D = config_.headDim;
  const size_t srcHead = static_cast<size_t>(fromStride * D) * es;
  const size_t dstHead = static_cast<size_t>(capacity * D) * es;
  const size_t used = static_cast<size_t>(filled * D) * es;
  ValueList dst{rt, {}};
  for (OrtValue* v : from) {
    dst.values.push_back(rt->AllocTensor(nullptr, {1, H, capacity, D}, config_.kvType));
    auto* out = static_cast<unsigned char*>(rt->Data(dst.values.back()));
    const auto* in = static_cast<const unsigned char*>(rt->Data(v));
    std::memset(out, 0, dstHead * static_cast<size_t>(H));
    for (int64_t h = 0; h < H; h++) std::memcpy(out + static_cast<size_t>(h) * dstHead, in + static_cast<size_t>(h) * srcHead, used);
  }
  ReleasePast();
  past_ = dst.take();
  capacity_ = capacity;
}

void KvState::EnsureCapacity(int64_t needed) {
  if (needed <= capacity_) return;
  int64_t cap = capacity_;
  while (cap < needed) cap *= 2;
  if (cap > config_.maxLength) cap = config_.maxLength;
  Repack(past_, capacity_, length_, cap);
}

void KvState::SharedStep(const std::vector<float>& embeds, std::vector<float>& logits) {
  const OrtRuntime* rt = s_->rt;
  EnsureCapacity(length_ + 1);
  std::vector<float> embedData(embeds);
  std::vector<int64_t> mask(static_cast<size_t>(capacity_), 0);
  for (int64_t i = 0; i <= length_; i++) mask[static_cast<size_t>(i)] = 1;
  int64_t position = length_;
  ValueList inputs{rt, {}};
  inputs.values.push_back(rt->TensorOver(embedData.data(), embedData.size() * sizeof(float), {1, 1, config_.hidden}, kFloat));
  rt->ClearBindings(binding_);
  rt->BindInput(binding_, config_.embedsName, inputs.values.back());
  if (!config_.maskName.empty()) {
    inputs.values.push_back(rt->TensorOver(mask.data(), mask.size() * sizeof(int64_t), {1, capacity_}, kInt64));
    rt->BindInput(binding_, config_.maskName, inputs.values.back());
  }
  if (!config_.positionsName.empty()) {
    inputs.values.push_back(rt->TensorOver(&position, sizeof(int64_t), {1, 1}, kInt64));
    rt->BindInput(binding_, config_.positionsName, inputs.values.back());
  }
  for (size_t i = 0; i < past_.size(); i++) {
    rt->BindInput(binding_, config_.past[i], past_[i]);
    rt->BindOutput(binding_, config_.present[i], past_[i]);
  }
  rt->BindOutputToDevice(binding_, config_.logitsName, rt->cpuMemory());
  rt->RunWithBinding(s_->session, runOptions_, binding_);
  ValueList outs{rt, rt->BoundOutputs(binding_)};
  rt->ClearBindings(binding_);
  if (outs.values.size() != 1 + past_.size()) throw OrtError("the run returned an unexpected number of outputs");
  // outputs come back in binding order: present.* first, logits last
  CopyLogits(outs.values.back(), 1, logits);
  length_ += 1;
}

}  // namespace omnicap

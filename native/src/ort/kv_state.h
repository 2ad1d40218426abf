// One generation's decoder KV cache held as ONNX Runtime values between steps (IO binding): the
// past/present tensors never become JS buffers, only the last position's logits leave.
//
// Two layouts:
//  - grow:   present.* are bound to the session's memory (CPU, or the CUDA device) and ORT
//            allocates them each step; they are fed back as the next past_key_values.* unchanged.
//  - shared: (CPU, GroupQueryAttention graphs) one capacity-sized tensor per layer is bound as both
//            past and present, so GQA writes each new key/value in place; the attention mask spans
//            the capacity and its ones mark the filled length. Capacity doubles when full (one copy).
// No N-API here: these run on a libuv worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ort_runtime.h"

namespace omnicap {

// Live native objects (for leak checks from JS: ort_addon.cc stats()).
struct LiveCounts {
  static std::atomic<int> sessions;
  static std::atomic<int> states;
};

struct SessionHandle {
  SessionHandle() { LiveCounts::sessions++; }
  SessionHandle(const SessionHandle&) = delete;
  SessionHandle& operator=(const SessionHandle&) = delete;
  const OrtRuntime* rt = nullptr;
  ortabi::OrtSession* session = nullptr;
  bool cuda = false;
  int deviceId = 0;
  ortabi::OrtMemoryInfo* kvMemory = nullptr;  // owned when cuda, else the runtime's CPU info
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  ~SessionHandle();
};

struct KvConfig {
  std::vector<std::string> past;     // 2 * layers: key then value per layer
  std::vector<std::string> present;  // same order
  std::string embedsName = "inputs_embeds";
  std::string maskName;       // empty when the graph has no attention_mask
  std::string positionsName;  // empty when the graph has no position_ids
  std::string logitsName = "logits";
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  int64_t hidden = 0;
  int64_t vocab = 0;
  int64_t maxLength = 0;
  int kvType = ortabi::kFloat;
  bool shared = false;
  int64_t initialCapacity = 64;
};

class KvState {
 public:
  KvState(std::shared_ptr<SessionHandle> session, KvConfig config);
  ~KvState();
  KvState(const KvState&) = delete;
  KvState& operator=(const KvState&) = delete;

  // Runs the decoder over `seq` positions of `embeds` ([seq, hidden] float32) after the cached
  // ones and writes the last position's logits (float32, vocab) into `logits`.
  void Forward(const std::vector<float>& embeds, int64_t seq, std::vector<float>& logits);
  void Reset();
  // Thread-safe: makes a running Forward stop as soon as ORT checks, and later ones refuse.
  void Terminate();

  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }

 private:
  void Grow(const std::vector<float>& embeds, int64_t seq, std::vector<float>& logits);
  void SharedStep(const std::vector<float>& embeds, std::vector<float>& logits);
  void EnsureCapacity(int64_t needed);
  void Repack(const std::vector<ortabi::OrtValue*>& from, int64_t fromStride, int64_t filled, int64_t capacity);
  void CopyLogits(ortabi::OrtValue* v, int64_t seq, std::vector<float>& logits) const;
  void ReleasePast();
  size_t ElementBytes() const { return config_.kvType == ortabi::kFloat16 ? 2 : 4; }

  std::shared_ptr<SessionHandle> s_;
  KvConfig config_;
  ortabi::OrtIoBinding* binding_ = nullptr;
  ortabi::OrtRunOptions* runOptions_ = nullptr;
  std::vector<ortabi::OrtValue*> past_;  // grow: [1,H,length,D]; shared: [1,H,capacity,D]
  int64_t length_ = 0;
  int64_t capacity_ = 0;  // shared layout only; 0 until the prefill is moved in
  std::atomic<bool> terminated_{false};
};

}  // namespace omnicap

// N-API binding for the log-mel front-end. JS validates arguments first (src/features/native.ts);
// the checks here only guard memory safety.
#include <napi.h>

#include <cstring>
#include <vector>

#include "logmel.h"

namespace {

std::vector<float> CopyInput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "Expected a Float32Array of 16 kHz samples");
  }
  Napi::Float32Array in = info[0].As<Napi::Float32Array>();
  if (in.ElementLength() < static_cast<size_t>(omnicap::kHop)) {
    throw Napi::RangeError::New(env, "Expected at least 160 samples");
  }
  std::vector<float> samples(in.ElementLength());
  std::memcpy(samples.data(), in.Data(), samples.size() * sizeof(float));
  return samples;
}

Napi::Object Result(Napi::Env env, const std::vector<float>& data, size_t frames) {
  Napi::Float32Array arr = Napi::Float32Array::New(env, data.size());
  if (!data.empty()) std::memcpy(arr.Data(), data.data(), data.size() * sizeof(float));
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", arr);
  o.Set("frames", Napi::Number::New(env, static_cast<double>(frames)));
  o.Set("numMelBins", Napi::Number::New(env, omnicap::kNumMel));
  return o;
}

class LogMelWorker : public Napi::AsyncWorker {
 public:
  LogMelWorker(Napi::Env env, std::vector<float> samples)
      : Napi::AsyncWorker(env, "omnicap:logmel"), deferred_(Napi::Promise::Deferred::New(env)), samples_(std::move(samples)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  // Runs on the libuv thread pool: no V8 access here.
  void Execute() override {
    frames_ = samples_.size() / omnicap::kHop;
    out_.resize(static_cast<size_t>(omnicap::kNumMel) * frames_);
    omnicap::SharedTables().Compute(samples_.data(), samples_.size(), out_.data());
    std::vector<float>().swap(samples_);
  }
  void OnOK() override { deferred_.Resolve(Result(Env(), out_, frames_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<float> samples_;
  std::vector<float> out_;
  size_t frames_ = 0;
};

Napi::Value ComputeSync(const Napi::CallbackInfo& info) {
  std::vector<float> samples = CopyInput(info);
  size_t frames = samples.size() / omnicap::kHop;
  std::vector<float> out(static_cast<size_t>(omnicap::kNumMel) * frames);
  omnicap::SharedTables().Compute(samples.data(), samples.size(), out.data());
  return Result(info.Env(), out, frames);
}

Napi::Value ComputeAsync(const Napi::CallbackInfo& info) {
  std::vector<float> samples = CopyInput(info);  // copied on the main thread
  auto* worker = new LogMelWorker(info.Env(), std::move(samples));
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("logMelSync", Napi::Function::New(env, ComputeSync, "logMelSync"));
  exports.Set("logMel", Napi::Function::New(env, ComputeAsync, "logMel"));
  Napi::Object c = Napi::Object::New(env);
  c.Set("sampleRate", omnicap::kSampleRate);
  c.Set("nFft", omnicap::kNFft);
  c.Set("hopLength", omnicap::kHop);
  c.Set("numMelBins", omnicap::kNumMel);
  exports.Set("constants", c);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(omnicap_features, Init)

// N-API binding of the resident-KV decoder (src/engine/resident/addon-types.ts is its typed view).
// JS validates arguments first (src/engine/resident/native.ts); the checks here guard memory
// safety only. Session loads and decoder runs execute on the libuv pool (Napi::AsyncWorker) and
// never touch V8 there; results are copied into JS values in OnOK on the JS thread.
#include <napi.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kv_state.h"
#include "ort_runtime.h"

namespace {

using omnicap::KvConfig;
using omnicap::KvState;
using omnicap::OrtError;
using omnicap::OrtRuntime;
using omnicap::SessionHandle;
using omnicap::TensorInfo;

struct InstanceData {
  Napi::FunctionReference sessionCtor;
  Napi::FunctionReference stateCtor;
  const OrtRuntime* rt = nullptr;
};

InstanceData& Data(Napi::Env env) { return *env.GetInstanceData<InstanceData>(); }

const OrtRuntime& Runtime(Napi::Env env) {
  const OrtRuntime* rt = Data(env).rt;
  if (rt == nullptr) throw Napi::Error::New(env, "call init(libraryPath) first");
  return *rt;
}

Napi::Array Describe(Napi::Env env, const std::vector<TensorInfo>& infos) {
  Napi::Array arr = Napi::Array::New(env, infos.size());
  for (size_t i = 0; i < infos.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", infos[i].name);
    o.Set("elementType", infos[i].elementType);
    Napi::Array dims = Napi::Array::New(env, infos[i].dims.size());
    for (size_t d = 0; d < infos[i].dims.size(); d++) dims.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(infos[i].dims[d])));
    o.Set("dims", dims);
    arr.Set(static_cast<uint32_t>(i), o);
  }
  return arr;
}

class NativeKvState : public Napi::ObjectWrap<NativeKvState> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeKvState",
                       {InstanceMethod<&NativeKvState::Forward>("forward"), InstanceMethod<&NativeKvState::Length>("length"),
                        InstanceMethod<&NativeKvState::Capacity>("capacity"), InstanceMethod<&NativeKvState::Reset>("reset"),
                        InstanceMethod<&NativeKvState::Terminate>("terminate"), InstanceMethod<&NativeKvState::Dispose>("dispose")});
  }

  explicit NativeKvState(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeKvState>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "NativeKvState is created by NativeSession.createState()");
    auto* made = info[0].As<Napi::External<std::shared_ptr<KvState>>>().Data();
    state_ = *made;
  }

  std::shared_ptr<KvState> state_;
  bool busy_ = false;

 private:
  KvState& Live(Napi::Env env) {
    if (!state_) throw Napi::Error::New(env, "the KV state was disposed");
    return *state_;
  }

  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value Length(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(Live(info.Env()).length())); }
  Napi::Value Capacity(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(Live(info.Env()).capacity())); }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    if (busy_) throw Napi::Error::New(info.Env(), "reset() while a forward() is running");
    try {
      Live(info.Env()).Reset();
    } catch (const OrtError& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    return info.Env().Undefined();
  }
  Napi::Value Terminate(const Napi::CallbackInfo& info) {
    try {
      if (state_) state_->Terminate();
    } catch (const OrtError& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    return info.Env().Undefined();
  }
  // Drops this handle's reference; a running forward() is terminated and keeps the state alive
  // until it settles.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (state_ && busy_) {
      try {
        state_->Terminate();
      } catch (const OrtError&) {
        // the run finishes on its own; the state is still released when it settles
      }
    }
    state_.reset();
    return info.Env().Undefined();
  }
};

class ForwardWorker : public Napi::AsyncWorker {
 public:
  ForwardWorker(Napi::Env env, NativeKvState* owner, Napi::Object self, std::vector<float> embeds, int64_t seq)
      : Napi::AsyncWorker(env, "omnicap:resident-forward"),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(owner),
        self_(Napi::Persistent(self)),
        state_(owner->state_),
        embeds_(std::move(embeds)),
        seq_(seq) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      state_->Forward(embeds_, seq_, logits_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    owner_->busy_ = false;
    Napi::Float32Array out = Napi::Float32Array::New(Env(), logits_.size());
    if (!logits_.empty()) std::memcpy(out.Data(), logits_.data(), logits_.size() * sizeof(float));
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override {
    owner_->busy_ = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  NativeKvState* owner_;
  Napi::ObjectReference self_;  // keeps the wrapper (and owner_) alive while the run is queued
  std::shared_ptr<KvState> state_;
  std::vector<float> embeds_;
  int64_t seq_;
  std::vector<float> logits_;
};

Napi::Value NativeKvState::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Live(env);
  if (busy_) throw Napi::Error::New(env, "forward() while another forward() on this state is running");
  if (info.Length() != 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "forward(embeds: Float32Array, seq: number)");
  }
  Napi::Float32Array in = info[0].As<Napi::Float32Array>();
  const int64_t seq = info[1].As<Napi::Number>().Int64Value();
  std::vector<float> embeds(in.ElementLength());
  if (!embeds.empty()) std::memcpy(embeds.data(), in.Data(), embeds.size() * sizeof(float));
  auto* w = new ForwardWorker(env, this, info.This().As<Napi::Object>(), std::move(embeds), seq);
  Napi::Promise p = w->Promise();
  busy_ = true;
  w->Queue();
  return p;
}

class NativeSession : public Napi::ObjectWrap<NativeSession> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeSession",
                       {InstanceMethod<&NativeSession::Inputs>("inputs"), InstanceMethod<&NativeSession::Outputs>("outputs"),
                        InstanceMethod<&NativeSession::CreateState>("createState"), InstanceMethod<&NativeSession::Release>("release")});
  }

  explicit NativeSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeSession>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "NativeSession is created by loadSession()");
    handle_ = *info[0].As<Napi::External<std::shared_ptr<SessionHandle>>>().Data();
  }

 private:
  SessionHandle& Live(Napi::Env env) {
    if (!handle_) throw Napi::Error::New(env, "the session was released");
    return *handle_;
  }
  Napi::Value Inputs(const Napi::CallbackInfo& info) { return Describe(info.Env(), Live(info.Env()).inputs); }
  Napi::Value Outputs(const Napi::CallbackInfo& info) { return Describe(info.Env(), Live(info.Env()).outputs); }
  // States hold their own reference: the ORT session is released with the last of them.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    handle_.reset();
    return info.Env().Undefined();
  }
  Napi::Value CreateState(const Napi::CallbackInfo& info);

  std::shared_ptr<SessionHandle> handle_;
};

std::vector<std::string> Strings(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsString()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of strings");
    out.push_back(e.As<Napi::String>().Utf8Value());
  }
  return out;
}

int64_t Int(Napi::Env env, Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(key) + " must be a number");
  return v.As<Napi::Number>().Int64Value();
}

std::string Str(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

Napi::Value NativeSession::CreateState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Live(env);
  if (info.Length() != 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "createState(config)");
  Napi::Object c = info[0].As<Napi::Object>();
  KvConfig cfg;
  cfg.past = Strings(env, c.Get("past"), "past");
  cfg.present = Strings(env, c.Get("present"), "present");
  cfg.maskName = Str(c, "maskName");
  cfg.positionsName = Str(c, "positionsName");
  cfg.kvHeads = Int(env, c, "kvHeads");
  cfg.headDim = Int(env, c, "headDim");
  cfg.hidden = Int(env, c, "hidden");
  cfg.vocab = Int(env, c, "vocab");
  cfg.maxLength = Int(env, c, "maxLength");
  cfg.kvType = static_cast<int>(Int(env, c, "kvElementType"));
  cfg.shared = c.Get("shared").ToBoolean().Value();
  if (cfg.kvHeads < 1 || cfg.headDim < 1 || cfg.hidden < 1 || cfg.vocab < 1 || cfg.maxLength < 2) throw Napi::RangeError::New(env, "KV config sizes must be positive");
  std::shared_ptr<SessionHandle> ref = handle_;
  std::shared_ptr<KvState> state;
  try {
    state = std::make_shared<KvState>(ref, std::move(cfg));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  return Data(env).stateCtor.New({Napi::External<std::shared_ptr<KvState>>::New(env, &state)});
}

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, const OrtRuntime* rt, std::string path, int threads, bool spinning, bool cuda, int device)
      : Napi::AsyncWorker(env, "omnicap:resident-load"),
        deferred_(Napi::Promise::Deferred::New(env)),
        rt_(rt),
        path_(std::move(path)),
        threads_(threads),
        spinning_(spinning),
        cuda_(cuda),
        device_(device) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      auto h = std::make_shared<SessionHandle>();
      h->cuda = cuda_;
      h->deviceId = device_;
      h->session = rt_->CreateSession(path_, threads_, spinning_, cuda_, device_);
      h->rt = rt_;  // from here on the handle releases the session
      h->kvMemory = cuda_ ? rt_->CudaMemory(device_) : rt_->cpuMemory();
      h->inputs = rt_->Inputs(h->session);
      h->outputs = rt_->Outputs(h->session);
      handle_ = std::move(h);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    deferred_.Resolve(Data(env).sessionCtor.New({Napi::External<std::shared_ptr<SessionHandle>>::New(env, &handle_)}));
    handle_.reset();
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  const OrtRuntime* rt_;
  std::string path_;
  int threads_;
  bool spinning_;
  bool cuda_;
  int device_;
  std::shared_ptr<SessionHandle> handle_;
};

// init(libraryPath) -> { version, apiVersion, libraryPath }
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "init(libraryPath: string)");
  try {
    const OrtRuntime& rt = OrtRuntime::Load(info[0].As<Napi::String>().Utf8Value());
    Data(env).rt = &rt;
    Napi::Object o = Napi::Object::New(env);
    o.Set("version", rt.version());
    o.Set("apiVersion", Napi::Number::New(env, omnicap::ortabi::kApiVersion));
    o.Set("libraryPath", rt.libraryPath());
    return o;
  } catch (const OrtError& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// loadSession(path, { threads, spinning, provider: 'cpu' | 'cuda', deviceId }) -> Promise<NativeSession>
Napi::Value LoadSession(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const OrtRuntime& rt = Runtime(env);
  if (info.Length() != 2 || !info[0].IsString() || !info[1].IsObject()) throw Napi::TypeError::New(env, "loadSession(path, options)");
  Napi::Object o = info[1].As<Napi::Object>();
  const int threads = static_cast<int>(Int(env, o, "threads"));
  const bool spinning = o.Get("spinning").ToBoolean().Value();
  const bool cuda = Str(o, "provider") == "cuda";
  const int device = static_cast<int>(Int(env, o, "deviceId"));
  auto* w = new LoadWorker(env, &rt, info[0].As<Napi::String>().Utf8Value(), threads, spinning, cuda, device);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// stats() -> { sessions, states }: native sessions and KV states alive in this process.
Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("sessions", omnicap::LiveCounts::sessions.load());
  o.Set("states", omnicap::LiveCounts::states.load());
  return o;
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  auto* data = new InstanceData();
  data->sessionCtor = Napi::Persistent(NativeSession::Define(env));
  data->stateCtor = Napi::Persistent(NativeKvState::Define(env));
  env.SetInstanceData<InstanceData>(data);
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("loadSession", Napi::Function::New(env, LoadSession));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  exports.Set("elementTypes", [&] {
    Napi::Object t = Napi::Object::New(env);
    t.Set("float32", Napi::Number::New(env, omnicap::ortabi::kFloat));
    t.Set("int64", Napi::Number::New(env, omnicap::ortabi::kInt64));
    t.Set("float16", Napi::Number::New(env, omnicap::ortabi::kFloat16));
    return t;
  }());
  return exports;
}

}  // namespace

NODE_API_MODULE(omnicap_ort, InitModule)

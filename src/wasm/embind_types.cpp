// embind's registration of the C++ types it converts, trimmed to the ones bindings.cpp uses.
//
// From Emscripten 3.1.6, system/lib/embind/bind.cpp (Copyright 2012 The Emscripten Authors;
// Emscripten is available under two licenses, the MIT license and the University of
// Illinois/NCSA Open Source License: https://github.com/emscripten-core/emscripten/blob/main/LICENSE).
//
// Why a copy: `--bind` (-lembind) links the stock file, which registers every type embind
// knows: wstring, u16/u32 strings, 64-bit integers, emscripten::val, a memory_view of every
// element type. Each registration keeps its JS converter in the output too. This one
// registers only void, bool, int, unsigned (uint32_t), double and std::string; the link takes
// embind's JS libraries itself (--js-library, CMakeLists.txt). A type added to a binding must
// be added here as well, or the binding that uses it is missing from the module (embind's
// JavaScript, trimmed in embind_trim.js, no longer names unbound types: so no __getTypeName
// either, which only that used).
#include <emscripten/bind.h>
#include <emscripten/wire.h>

#include <cstdint>
#include <limits>
#include <string>

static_assert(!emscripten::has_unbound_type_names, "the adapter is built without RTTI");

namespace {

template <typename T>
void register_integer(const char* name) {
    using namespace emscripten::internal;
    _embind_register_integer(TypeID<T>::get(), name, sizeof(T), std::numeric_limits<T>::min(),
                             std::numeric_limits<T>::max());
}

// Before main and before the EMSCRIPTEN_BINDINGS constructors' registrations resolve (embind
// resolves a binding's types whenever they are all registered, in whatever order).
__attribute__((constructor)) void register_types() {
    using namespace emscripten::internal;
    _embind_register_void(TypeID<void>::get(), "void");
    _embind_register_bool(TypeID<bool>::get(), "bool", sizeof(bool), true, false);
    register_integer<int>("int");
    register_integer<unsigned int>("unsigned int");
    _embind_register_float(TypeID<double>::get(), "double", sizeof(double));
    _embind_register_std_string(TypeID<std::string>::get(), "std::string");
}

}  // namespace

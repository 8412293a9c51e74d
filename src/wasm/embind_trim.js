// embind's JavaScript, trimmed to what bindings.cpp binds, as src/wasm/embind_types.cpp trims
// its C++ (linked with --js-library after embind.js, CMakeLists.txt: these entries replace
// embind's own of the same names).
//
// From Emscripten 3.1.6, src/embind/embind.js (Copyright 2012 The Emscripten Authors; MIT or
// University of Illinois/NCSA Open Source License).
//
// A binding becomes Module[name]: a function that checks its count of arguments (the same
// BindingError as embind's), converts them with their types' toWireType, calls the C++
// function through its invoker, frees what the conversions allocated and converts the result.
// Left out, none of which the bindings use: overloads (a name bound twice would now replace
// the first), class methods, the stand-in that names unbound types (embind_types.cpp
// registers every type before the bindings; a binding with an unregistered type is simply
// not on the module), Asyncify, 64-bit integers, and the types' readValueFromPointer (read
// only by value objects, classes and emscripten::val). The arrays of a call are its own: a
// binding that JavaScript re-enters from inside itself keeps its arguments.
/* global mergeInto, LibraryManager, Module, HEAPU8, HEAPU32, UTF8Decoder, UTF8ToString, _malloc, _free, lengthBytesUTF8, embind__requireFunction,
   stringToUTF8, registeredTypes, awaitingDependencies, heap32VectorToArray, readLatin1String, getWasmTableEntry, registerType,
   whenDependentTypesAreResolved, throwBindingError, runDestructors */
mergeInto(LibraryManager.library, {
  // The names embind reads (types, bindings, signatures) are ASCII, where Latin-1 and UTF-8
  // agree: no table of 256 one-character strings built at start-up.
  $readLatin1String: function (ptr) {
    return UTF8ToString(ptr);
  },

  // A type's registration, without the checks for what embind_types.cpp never does (a type
  // registered twice, a null type id, a converter without argPackAdvance), and calling what
  // waits for it.
  $registerType__deps: ['$registeredTypes', '$awaitingDependencies'],
  $registerType: function (rawType, registeredInstance) {
    registeredTypes[rawType] = registeredInstance;
    var callbacks = awaitingDependencies[rawType];
    if (callbacks) {
      delete awaitingDependencies[rawType];
      callbacks.forEach(function (cb) { cb(); });
    }
  },

  // Calls getTypeConverters with the types of `dependentTypes` once all are registered (at
  // once, or from registerType). Only _embind_register_function uses it, with no types of its
  // own (myTypes) to register from the converters, so that part of embind's is left out.
  $whenDependentTypesAreResolved__deps: ['$registeredTypes', '$awaitingDependencies'],
  $whenDependentTypesAreResolved: function (myTypes, dependentTypes, getTypeConverters) {
    var converters = [];
    var missing = 0;
    dependentTypes.forEach(function (type, i) {
      if (registeredTypes[type]) {
        converters[i] = registeredTypes[type];
        return;
      }
      missing++;
      (awaitingDependencies[type] = awaitingDependencies[type] || []).push(function () {
        converters[i] = registeredTypes[type];
        if (!--missing) getTypeConverters(converters);
      });
    });
    if (!missing) getTypeConverters(converters);
  },

  $embind__requireFunction__deps: ['$readLatin1String', '$throwBindingError', '$getWasmTableEntry'],
  $embind__requireFunction: function (signature, rawFunction) {
    var fp = getWasmTableEntry(rawFunction);
    if (typeof fp !== 'function') {
      throwBindingError('unknown function pointer with signature ' + readLatin1String(signature) + ': ' + rawFunction);
    }
    return fp;
  },

  _embind_register_function__deps: ['$heap32VectorToArray', '$readLatin1String', '$embind__requireFunction',
    '$whenDependentTypesAreResolved', '$throwBindingError', '$runDestructors'],
  _embind_register_function: function (name, argCount, rawArgTypesAddr, signature, rawInvoker, fn) {
    var argTypes = heap32VectorToArray(argCount, rawArgTypesAddr);
    name = readLatin1String(name);
    rawInvoker = embind__requireFunction(signature, rawInvoker);
    whenDependentTypesAreResolved([], argTypes, function (types) {
      var expected = argCount - 1;
      Module[name] = function () {
        if (arguments.length !== expected) {
          throwBindingError('function ' + name + ' called with ' + arguments.length + ' arguments, expected ' +
            expected + ' args!');
        }
        var destructors = [];
        var wired = [fn];
        for (var i = 0; i < expected; ++i) wired.push(types[i + 1]['toWireType'](destructors, arguments[i]));
        var rv = rawInvoker.apply(null, wired);
        runDestructors(destructors);
        // void's fromWireType returns undefined.
        return types[0]['fromWireType'](rv);
      };
      return [];
    });
  },

  _embind_register_bool__deps: ['$readLatin1String', '$registerType'],
  _embind_register_bool: function (rawType, name, size, trueValue, falseValue) {
    registerType(rawType, {
      name: readLatin1String(name),
      'fromWireType': function (wt) { return !!wt; },
      'toWireType': function (destructors, o) { return o ? trueValue : falseValue; },
      'argPackAdvance': 8,
    });
  },

  // int and unsigned int: 32 bits, so embind's shifts come to these.
  _embind_register_integer__deps: ['$readLatin1String', '$registerType'],
  _embind_register_integer: function (primitiveType, name, size, minRange, maxRange) {
    name = readLatin1String(name);
    var unsigned = name.includes('unsigned');
    registerType(primitiveType, {
      name: name,
      'fromWireType': unsigned ? function (value) { return value >>> 0; } : function (value) { return value; },
      'toWireType': unsigned ? function (destructors, value) { return value >>> 0; }
        : function (destructors, value) { return value; },
      'argPackAdvance': 8,
    });
  },

  _embind_register_float__deps: ['$readLatin1String', '$registerType'],
  _embind_register_float: function (rawType, name, size) {
    registerType(rawType, {
      name: readLatin1String(name),
      'fromWireType': function (value) { return value; },
      'toWireType': function (destructors, value) { return value; },
      'argPackAdvance': 8,
    });
  },

  // std::string as UTF-8 (EMBIND_STD_STRING_IS_UTF8, embind's default): decoded whole, NULs
  // included, as embind's decoding of each NUL-separated piece comes to.
  _embind_register_std_string__deps: ['$readLatin1String', '$registerType', '$throwBindingError'],
  _embind_register_std_string: function (rawType, name) {
    registerType(rawType, {
      name: readLatin1String(name),
      'fromWireType': function (value) {
        var str = UTF8Decoder.decode(HEAPU8.subarray(value + 4, value + 4 + HEAPU32[value >> 2]));
        _free(value);
        return str;
      },
      'toWireType': function (destructors, value) {
        if (value instanceof ArrayBuffer) value = new Uint8Array(value);
        var isString = typeof value === 'string';
        if (!(isString || value instanceof Uint8Array || value instanceof Uint8ClampedArray ||
              value instanceof Int8Array)) {
          throwBindingError('Cannot pass non-string to std::string');
        }
        var length = isString ? lengthBytesUTF8(value) : value.length;
        var ptr = _malloc(4 + length + 1);
        HEAPU32[ptr >> 2] = length;
        if (isString) {
          stringToUTF8(value, ptr + 4, length + 1);
        } else {
          for (var i = 0; i < length; ++i) HEAPU8[ptr + 4 + i] = value[i];
        }
        if (destructors !== null) destructors.push(_free, ptr);
        return ptr;
      },
      'argPackAdvance': 8,
    });
  },
});

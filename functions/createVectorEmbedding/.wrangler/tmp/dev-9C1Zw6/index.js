var __defProp = Object.defineProperty;
var __name = (target, value) => __defProp(target, "name", { value, configurable: true });

// build/index.js
import { WorkerEntrypoint as le } from "cloudflare:workers";
import H from "./8d498a89d9b2dd7625a5b0d736e7ec419bd51301-index_bg.wasm";
var B = globalThis.__worker_init_state = { criticalError: false, instanceId: 0 };
var m = class {
  static {
    __name(this, "m");
  }
  __destroy_into_raw() {
    let e = this.__wbg_ptr;
    return this.__wbg_ptr = 0, re.unregister(this), e;
  }
  free() {
    let e = this.__destroy_into_raw();
    o();
    try {
      _.__wbg_containerstartupoptions_free(e, 0);
    } catch (t) {
      s(t);
    }
  }
  get enableInternet() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e;
    o();
    try {
      e = _.__wbg_get_containerstartupoptions_enableInternet(this.__wbg_ptr);
    } catch (t) {
      s(t);
    }
    return e === 16777215 ? void 0 : e !== 0;
  }
  get entrypoint() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e;
    o();
    try {
      e = _.__wbg_get_containerstartupoptions_entrypoint(this.__wbg_ptr);
    } catch (r) {
      s(r);
    }
    var t = ae(e[0], e[1]);
    return _.__wbindgen_free(e[0], e[1] * 4, 4), t;
  }
  get env() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e;
    o();
    try {
      e = _.__wbg_get_containerstartupoptions_env(this.__wbg_ptr);
    } catch (t) {
      s(t);
    }
    return e;
  }
  set enableInternet(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    o();
    try {
      _.__wbg_set_containerstartupoptions_enableInternet(this.__wbg_ptr, b(e) ? 16777215 : e ? 1 : 0);
    } catch (t) {
      s(t);
    }
  }
  set entrypoint(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let t = be(e, _.__wbindgen_malloc), r = g;
    o();
    try {
      _.__wbg_set_containerstartupoptions_entrypoint(this.__wbg_ptr, t, r);
    } catch (i) {
      s(i);
    }
  }
  set env(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    o();
    try {
      _.__wbg_set_containerstartupoptions_env(this.__wbg_ptr, e);
    } catch (t) {
      s(t);
    }
  }
};
Symbol.dispose && (m.prototype[Symbol.dispose] = m.prototype.free);
var S = class {
  static {
    __name(this, "S");
  }
  __destroy_into_raw() {
    let e = this.__wbg_ptr;
    return this.__wbg_ptr = 0, _e.unregister(this), e;
  }
  free() {
    let e = this.__destroy_into_raw();
    o();
    try {
      _.__wbg_intounderlyingbytesource_free(e, 0);
    } catch (t) {
      s(t);
    }
  }
  get autoAllocateChunkSize() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e;
    o();
    try {
      e = _.intounderlyingbytesource_autoAllocateChunkSize(this.__wbg_ptr);
    } catch (t) {
      s(t);
    }
    return e >>> 0;
  }
  cancel() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e = this.__destroy_into_raw();
    o();
    try {
      _.intounderlyingbytesource_cancel(e);
    } catch (t) {
      s(t);
    }
  }
  pull(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let t;
    o();
    try {
      t = _.intounderlyingbytesource_pull(this.__wbg_ptr, e);
    } catch (r) {
      s(r);
    }
    return t;
  }
  start(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    o();
    try {
      _.intounderlyingbytesource_start(this.__wbg_ptr, e);
    } catch (t) {
      s(t);
    }
  }
  get type() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e;
    o();
    try {
      e = _.intounderlyingbytesource_type(this.__wbg_ptr);
    } catch (t) {
      s(t);
    }
    return ne[e];
  }
};
Symbol.dispose && (S.prototype[Symbol.dispose] = S.prototype.free);
var k = class {
  static {
    __name(this, "k");
  }
  __destroy_into_raw() {
    let e = this.__wbg_ptr;
    return this.__wbg_ptr = 0, ie.unregister(this), e;
  }
  free() {
    let e = this.__destroy_into_raw();
    o();
    try {
      _.__wbg_intounderlyingsink_free(e, 0);
    } catch (t) {
      s(t);
    }
  }
  abort(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let t = this.__destroy_into_raw(), r;
    o();
    try {
      r = _.intounderlyingsink_abort(t, e);
    } catch (i) {
      s(i);
    }
    return r;
  }
  close() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e = this.__destroy_into_raw(), t;
    o();
    try {
      t = _.intounderlyingsink_close(e);
    } catch (r) {
      s(r);
    }
    return t;
  }
  write(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let t;
    o();
    try {
      t = _.intounderlyingsink_write(this.__wbg_ptr, e);
    } catch (r) {
      s(r);
    }
    return t;
  }
};
Symbol.dispose && (k.prototype[Symbol.dispose] = k.prototype.free);
var A = class {
  static {
    __name(this, "A");
  }
  __destroy_into_raw() {
    let e = this.__wbg_ptr;
    return this.__wbg_ptr = 0, se.unregister(this), e;
  }
  free() {
    let e = this.__destroy_into_raw();
    o();
    try {
      _.__wbg_intounderlyingsource_free(e, 0);
    } catch (t) {
      s(t);
    }
  }
  cancel() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e = this.__destroy_into_raw();
    o();
    try {
      _.intounderlyingsource_cancel(e);
    } catch (t) {
      s(t);
    }
  }
  pull(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let t;
    o();
    try {
      t = _.intounderlyingsource_pull(this.__wbg_ptr, e);
    } catch (r) {
      s(r);
    }
    return t;
  }
};
Symbol.dispose && (A.prototype[Symbol.dispose] = A.prototype.free);
var v = class {
  static {
    __name(this, "v");
  }
  __destroy_into_raw() {
    let e = this.__wbg_ptr;
    return this.__wbg_ptr = 0, oe.unregister(this), e;
  }
  free() {
    let e = this.__destroy_into_raw();
    o();
    try {
      _.__wbg_minifyconfig_free(e, 0);
    } catch (t) {
      s(t);
    }
  }
  get css() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e;
    o();
    try {
      e = _.__wbg_get_minifyconfig_css(this.__wbg_ptr);
    } catch (t) {
      s(t);
    }
    return e !== 0;
  }
  get html() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e;
    o();
    try {
      e = _.__wbg_get_minifyconfig_html(this.__wbg_ptr);
    } catch (t) {
      s(t);
    }
    return e !== 0;
  }
  get js() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e;
    o();
    try {
      e = _.__wbg_get_minifyconfig_js(this.__wbg_ptr);
    } catch (t) {
      s(t);
    }
    return e !== 0;
  }
  set css(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    o();
    try {
      _.__wbg_set_minifyconfig_css(this.__wbg_ptr, e);
    } catch (t) {
      s(t);
    }
  }
  set html(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    o();
    try {
      _.__wbg_set_minifyconfig_html(this.__wbg_ptr, e);
    } catch (t) {
      s(t);
    }
  }
  set js(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    o();
    try {
      _.__wbg_set_minifyconfig_js(this.__wbg_ptr, e);
    } catch (t) {
      s(t);
    }
  }
};
Symbol.dispose && (v.prototype[Symbol.dispose] = v.prototype.free);
var I = class {
  static {
    __name(this, "I");
  }
  __destroy_into_raw() {
    let e = this.__wbg_ptr;
    return this.__wbg_ptr = 0, ce.unregister(this), e;
  }
  free() {
    let e = this.__destroy_into_raw();
    o();
    try {
      _.__wbg_r2range_free(e, 0);
    } catch (t) {
      s(t);
    }
  }
  get length() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e;
    o();
    try {
      e = _.__wbg_get_r2range_length(this.__wbg_ptr);
    } catch (t) {
      s(t);
    }
    return e[0] === 0 ? void 0 : e[1];
  }
  get offset() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e;
    o();
    try {
      e = _.__wbg_get_r2range_offset(this.__wbg_ptr);
    } catch (t) {
      s(t);
    }
    return e[0] === 0 ? void 0 : e[1];
  }
  get suffix() {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    let e;
    o();
    try {
      e = _.__wbg_get_r2range_suffix(this.__wbg_ptr);
    } catch (t) {
      s(t);
    }
    return e[0] === 0 ? void 0 : e[1];
  }
  set length(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    o();
    try {
      _.__wbg_set_r2range_length(this.__wbg_ptr, !b(e), b(e) ? 0 : e);
    } catch (t) {
      s(t);
    }
  }
  set offset(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    o();
    try {
      _.__wbg_set_r2range_offset(this.__wbg_ptr, !b(e), b(e) ? 0 : e);
    } catch (t) {
      s(t);
    }
  }
  set suffix(e) {
    if (this.__wbg_inst !== void 0 && this.__wbg_inst !== c) throw new Error("Invalid stale object from previous Wasm instance");
    o();
    try {
      _.__wbg_set_r2range_suffix(this.__wbg_ptr, !b(e), b(e) ? 0 : e);
    } catch (t) {
      s(t);
    }
  }
};
Symbol.dispose && (I.prototype[Symbol.dispose] = I.prototype.free);
function z() {
  c++, y = null, R = null, W = null, typeof numBytesDecoded < "u" && (numBytesDecoded = 0), typeof g < "u" && (g = 0), q = false, O = false, U = new WebAssembly.Instance(H, Q()), _ = U.exports, _.__wbindgen_start();
}
__name(z, "z");
function G() {
  let n;
  o();
  try {
    n = _.__worker_init_state();
  } catch (e) {
    s(e);
  }
  return n;
}
__name(G, "G");
function K(n, e, t) {
  let r;
  o();
  try {
    r = _.fetch(n, e, t);
  } catch (i) {
    s(i);
  }
  return r;
}
__name(K, "K");
function Q() {
  return { __proto__: null, "./index_bg.js": { __proto__: null, __wbg_Error_208446807d0d1e30: /* @__PURE__ */ __name(function(e, t) {
    return Error(p(e, t));
  }, "__wbg_Error_208446807d0d1e30"), __wbg_String_8564e559799eccda: /* @__PURE__ */ __name(function(e, t) {
    let r = String(t), i = E(r, _.__wbindgen_malloc, _.__wbindgen_realloc), f = g;
    w().setInt32((e >>> 0) + 4, f, true), w().setInt32((e >>> 0) + 0, i, true);
  }, "__wbg_String_8564e559799eccda"), __wbg___wbindgen_debug_string_f249a2a76caa9a55: /* @__PURE__ */ __name(function(e, t) {
    let r = Y(t), i = E(r, _.__wbindgen_malloc, _.__wbindgen_realloc), f = g;
    w().setInt32((e >>> 0) + 4, f, true), w().setInt32((e >>> 0) + 0, i, true);
  }, "__wbg___wbindgen_debug_string_f249a2a76caa9a55"), __wbg___wbindgen_is_function_741ff2bb612836f5: /* @__PURE__ */ __name(function(e) {
    return typeof e == "function";
  }, "__wbg___wbindgen_is_function_741ff2bb612836f5"), __wbg___wbindgen_is_null_or_undefined_fb96af93c75460ae: /* @__PURE__ */ __name(function(e) {
    return e == null;
  }, "__wbg___wbindgen_is_null_or_undefined_fb96af93c75460ae"), __wbg___wbindgen_is_undefined_be5b34249ff1fc15: /* @__PURE__ */ __name(function(e) {
    return e === void 0;
  }, "__wbg___wbindgen_is_undefined_be5b34249ff1fc15"), __wbg___wbindgen_reinit_2fe0d0b9c1cc3c21: /* @__PURE__ */ __name(function() {
    O = true;
  }, "__wbg___wbindgen_reinit_2fe0d0b9c1cc3c21"), __wbg___wbindgen_string_get_7ce8eee7fd327545: /* @__PURE__ */ __name(function(e, t) {
    let r = t, i = typeof r == "string" ? r : void 0;
    var f = b(i) ? 0 : E(i, _.__wbindgen_malloc, _.__wbindgen_realloc), a = g;
    w().setInt32((e >>> 0) + 4, a, true), w().setInt32((e >>> 0) + 0, f, true);
  }, "__wbg___wbindgen_string_get_7ce8eee7fd327545"), __wbg___wbindgen_throw_4c88d8bf264fd984: /* @__PURE__ */ __name(function(e, t) {
    throw new WebAssembly.Exception(L, [new Error(p(e, t))]);
  }, "__wbg___wbindgen_throw_4c88d8bf264fd984"), __wbg__wbg_cb_unref_09736879a3f67559: /* @__PURE__ */ __name(function(e) {
    e._wbg_cb_unref();
  }, "__wbg__wbg_cb_unref_09736879a3f67559"), __wbg_buffer_aca05a93c046db1a: /* @__PURE__ */ __name(function(e) {
    return e.buffer;
  }, "__wbg_buffer_aca05a93c046db1a"), __wbg_byobRequest_18280c78e462544c: /* @__PURE__ */ __name(function(e) {
    let t = e.byobRequest;
    return b(t) ? 0 : l(t);
  }, "__wbg_byobRequest_18280c78e462544c"), __wbg_byteLength_c5f3c188d5252e5b: /* @__PURE__ */ __name(function(e) {
    return e.byteLength;
  }, "__wbg_byteLength_c5f3c188d5252e5b"), __wbg_byteOffset_63cdc7b38f33a45e: /* @__PURE__ */ __name(function(e) {
    return e.byteOffset;
  }, "__wbg_byteOffset_63cdc7b38f33a45e"), __wbg_call_a410eb4b59ed5965: /* @__PURE__ */ __name(function(e, t, r) {
    return e.call(t, r);
  }, "__wbg_call_a410eb4b59ed5965"), __wbg_cause_4cdda1b55a30b227: /* @__PURE__ */ __name(function(e) {
    return e.cause;
  }, "__wbg_cause_4cdda1b55a30b227"), __wbg_cf_e4bf1d08e9961dec: /* @__PURE__ */ __name(function(e) {
    let t = e.cf;
    return b(t) ? 0 : l(t);
  }, "__wbg_cf_e4bf1d08e9961dec"), __wbg_close_294d3f727cb7a844: /* @__PURE__ */ __name(function(e) {
    e.close();
  }, "__wbg_close_294d3f727cb7a844"), __wbg_close_bf94aa7e38b9a94b: /* @__PURE__ */ __name(function(e) {
    e.close();
  }, "__wbg_close_bf94aa7e38b9a94b"), __wbg_enqueue_c11626eae1c54509: /* @__PURE__ */ __name(function(e, t) {
    e.enqueue(t);
  }, "__wbg_enqueue_c11626eae1c54509"), __wbg_error_9b95f63d905893d2: /* @__PURE__ */ __name(function(e, t) {
    console.error(e, t);
  }, "__wbg_error_9b95f63d905893d2"), __wbg_error_d1fc0193610e0e39: /* @__PURE__ */ __name(function(e) {
    console.error(e);
  }, "__wbg_error_d1fc0193610e0e39"), __wbg_get_0ae635d02d232017: /* @__PURE__ */ __name(function(e, t) {
    let r = Reflect.get(e, t);
    return b(r) ? 0 : l(r);
  }, "__wbg_get_0ae635d02d232017"), __wbg_headers_9ef80dd266706f48: /* @__PURE__ */ __name(function(e) {
    return e.headers;
  }, "__wbg_headers_9ef80dd266706f48"), __wbg_instanceId_65a51bedfd10160a: /* @__PURE__ */ __name(function(e) {
    return e.instanceId;
  }, "__wbg_instanceId_65a51bedfd10160a"), __wbg_instanceof_Error_74e3cca0c4a69161: /* @__PURE__ */ __name(function(e) {
    let t;
    try {
      t = e instanceof Error;
    } catch {
      t = false;
    }
    return t;
  }, "__wbg_instanceof_Error_74e3cca0c4a69161"), __wbg_length_186163212ffe79c3: /* @__PURE__ */ __name(function(e) {
    return e.length;
  }, "__wbg_length_186163212ffe79c3"), __wbg_message_43d8c8f1d543a349: /* @__PURE__ */ __name(function(e) {
    return e.message;
  }, "__wbg_message_43d8c8f1d543a349"), __wbg_method_3d406ebab4dd9853: /* @__PURE__ */ __name(function(e, t) {
    let r = t.method, i = E(r, _.__wbindgen_malloc, _.__wbindgen_realloc), f = g;
    w().setInt32((e >>> 0) + 4, f, true), w().setInt32((e >>> 0) + 0, i, true);
  }, "__wbg_method_3d406ebab4dd9853"), __wbg_name_d1fa514fdca6a975: /* @__PURE__ */ __name(function(e) {
    return e.name;
  }, "__wbg_name_d1fa514fdca6a975"), __wbg_new_277c27c26f94cbc2: /* @__PURE__ */ __name(function() {
    return new Headers();
  }, "__wbg_new_277c27c26f94cbc2"), __wbg_new_787b9fb330d55d78: /* @__PURE__ */ __name(function(e, t) {
    return new Error(p(e, t));
  }, "__wbg_new_787b9fb330d55d78"), __wbg_new_cd4348290afae586: /* @__PURE__ */ __name(function() {
    return new Object();
  }, "__wbg_new_cd4348290afae586"), __wbg_new_typed_e09da9dae6ee5935: /* @__PURE__ */ __name(function(e, t) {
    try {
      var r = { a: e, b: t }, i = /* @__PURE__ */ __name((a, u) => {
        let d = r.a;
        r.a = 0;
        try {
          return te(d, r.b, a, u);
        } finally {
          r.a = d;
        }
      }, "i");
      return new Promise(i);
    } finally {
      r.a = 0;
    }
  }, "__wbg_new_typed_e09da9dae6ee5935"), __wbg_new_with_byte_offset_and_length_3cd32055a417f095: /* @__PURE__ */ __name(function(e, t, r) {
    return new Uint8Array(e, t >>> 0, r >>> 0);
  }, "__wbg_new_with_byte_offset_and_length_3cd32055a417f095"), __wbg_new_with_length_01b143a7e5dd5a3e: /* @__PURE__ */ __name(function(e) {
    return new Uint8Array(e >>> 0);
  }, "__wbg_new_with_length_01b143a7e5dd5a3e"), __wbg_new_with_opt_buffer_source_and_init_efb63b64b37a12c7: /* @__PURE__ */ __name(function(e, t) {
    return new Response(e, t);
  }, "__wbg_new_with_opt_buffer_source_and_init_efb63b64b37a12c7"), __wbg_new_with_opt_readable_stream_and_init_383c64eccf9e9cc7: /* @__PURE__ */ __name(function(e, t) {
    return new Response(e, t);
  }, "__wbg_new_with_opt_readable_stream_and_init_383c64eccf9e9cc7"), __wbg_new_with_opt_str_and_init_6456bed24baae6fc: /* @__PURE__ */ __name(function(e, t, r) {
    return new Response(e === 0 ? void 0 : p(e, t), r);
  }, "__wbg_new_with_opt_str_and_init_6456bed24baae6fc"), __wbg_queueMicrotask_1e8503a8a690f0a3: /* @__PURE__ */ __name(function(e) {
    return e.queueMicrotask;
  }, "__wbg_queueMicrotask_1e8503a8a690f0a3"), __wbg_queueMicrotask_4a1a4d8dd332373b: /* @__PURE__ */ __name(function(e) {
    queueMicrotask(e);
  }, "__wbg_queueMicrotask_4a1a4d8dd332373b"), __wbg_resolve_dbf78ab4942478b0: /* @__PURE__ */ __name(function(e) {
    return Promise.resolve(e);
  }, "__wbg_resolve_dbf78ab4942478b0"), __wbg_respond_d97c023ee981d1f5: /* @__PURE__ */ __name(function(e, t) {
    e.respond(t >>> 0);
  }, "__wbg_respond_d97c023ee981d1f5"), __wbg_set_2793479888329cb6: /* @__PURE__ */ __name(function(e, t, r) {
    return Reflect.set(e, t, r);
  }, "__wbg_set_2793479888329cb6"), __wbg_set_bcb0ec2400cfa22e: /* @__PURE__ */ __name(function(e, t, r, i, f) {
    e.set(p(t, r), p(i, f));
  }, "__wbg_set_bcb0ec2400cfa22e"), __wbg_set_criticalError_c30445da7038dbf2: /* @__PURE__ */ __name(function(e, t) {
    e.criticalError = t !== 0;
  }, "__wbg_set_criticalError_c30445da7038dbf2"), __wbg_set_feb3714f475485ba: /* @__PURE__ */ __name(function(e, t, r) {
    e.set(fe(t, r));
  }, "__wbg_set_feb3714f475485ba"), __wbg_set_headers_07f10dbe49bc0e77: /* @__PURE__ */ __name(function(e, t) {
    e.headers = t;
  }, "__wbg_set_headers_07f10dbe49bc0e77"), __wbg_set_instanceId_6f5f77d81e249b49: /* @__PURE__ */ __name(function(e, t) {
    e.instanceId = t >>> 0;
  }, "__wbg_set_instanceId_6f5f77d81e249b49"), __wbg_set_status_bd9dc81d1c17b108: /* @__PURE__ */ __name(function(e, t) {
    e.status = t;
  }, "__wbg_set_status_bd9dc81d1c17b108"), __wbg_static_accessor_GLOBAL_THIS_003ee833af9699fc: /* @__PURE__ */ __name(function() {
    let e = typeof globalThis > "u" ? void 0 : globalThis;
    return b(e) ? 0 : l(e);
  }, "__wbg_static_accessor_GLOBAL_THIS_003ee833af9699fc"), __wbg_static_accessor_GLOBAL_e4293fb22cbe77da: /* @__PURE__ */ __name(function() {
    let e = typeof global > "u" ? void 0 : global;
    return b(e) ? 0 : l(e);
  }, "__wbg_static_accessor_GLOBAL_e4293fb22cbe77da"), __wbg_static_accessor_INIT_STATE_b2269150d11f01e0: /* @__PURE__ */ __name(function() {
    return B;
  }, "__wbg_static_accessor_INIT_STATE_b2269150d11f01e0"), __wbg_static_accessor_SELF_53bb20457401453d: /* @__PURE__ */ __name(function() {
    let e = typeof self > "u" ? void 0 : self;
    return b(e) ? 0 : l(e);
  }, "__wbg_static_accessor_SELF_53bb20457401453d"), __wbg_static_accessor_WINDOW_b5e0810bfecb7feb: /* @__PURE__ */ __name(function() {
    let e = typeof window > "u" ? void 0 : window;
    return b(e) ? 0 : l(e);
  }, "__wbg_static_accessor_WINDOW_b5e0810bfecb7feb"), __wbg_then_e3f7f2d365708be8: /* @__PURE__ */ __name(function(e, t) {
    return e.then(t);
  }, "__wbg_then_e3f7f2d365708be8"), __wbg_url_1be993c7b186415b: /* @__PURE__ */ __name(function(e, t) {
    let r = t.url, i = E(r, _.__wbindgen_malloc, _.__wbindgen_realloc), f = g;
    w().setInt32((e >>> 0) + 4, f, true), w().setInt32((e >>> 0) + 0, i, true);
  }, "__wbg_url_1be993c7b186415b"), __wbg_view_3b708d3bdaf3fc96: /* @__PURE__ */ __name(function(e) {
    let t = e.view;
    return b(t) ? 0 : l(t);
  }, "__wbg_view_3b708d3bdaf3fc96"), __wbindgen_generic_0000000000000001: /* @__PURE__ */ __name(function(e, t) {
    return ue(e, t, ee);
  }, "__wbindgen_generic_0000000000000001"), __wbindgen_generic_0000000000000002: /* @__PURE__ */ __name(function(e, t) {
    return p(e, t);
  }, "__wbindgen_generic_0000000000000002"), __wbindgen_init_externref_table: /* @__PURE__ */ __name(function() {
    let e = _.__wbindgen_externrefs;
    e.set(0, void 0), e.set(1024, void 0), e.set(1025, null), e.set(1026, true), e.set(1027, false);
  }, "__wbindgen_init_externref_table"), __wbindgen_jstag: WebAssembly.JSTag, __wbindgen_rethrow_critical: /* @__PURE__ */ __name(function(e) {
    throw new Error("Critical error", { cause: e });
  }, "__wbindgen_rethrow_critical") } };
}
__name(Q, "Q");
var L = new WebAssembly.Tag({ parameters: ["externref"] });
var D;
var q = false;
function X() {
  q = true;
  try {
    let n = N()[_.__abort_handler.value / 4];
    n && _.__wbindgen_export.get(n)();
  } catch {
  }
}
__name(X, "X");
function s(n) {
  throw n instanceof WebAssembly.Exception && n.is(L) ? n.getArg(L, 0) : (N()[D] = 1, X(), n);
}
__name(s, "s");
function o() {
  if (D ??= _.__instance_terminated.value / 4, N()[D]) {
    if (q || X(), O) {
      z();
      return;
    }
    throw new Error("Module terminated");
  } else O && z();
}
__name(o, "o");
function ee(n, e, t) {
  let r;
  o();
  try {
    r = _.wasm_bindgen__convert__closures_____invoke__h41a1c2172cdea01b(n, e, t);
  } catch (i) {
    s(i);
  }
  if (r[1]) throw de(r[0]);
}
__name(ee, "ee");
function te(n, e, t, r) {
  o();
  try {
    _.wasm_bindgen__convert__closures_____invoke__h5142c6072d600575(n, e, t, r);
  } catch (i) {
    s(i);
  }
}
__name(te, "te");
var ne = ["bytes"];
var c = 0;
var re = typeof FinalizationRegistry > "u" ? { register: /* @__PURE__ */ __name(() => {
}, "register"), unregister: /* @__PURE__ */ __name(() => {
}, "unregister") } : new FinalizationRegistry(({ ptr: n, instance: e }) => {
  e === c && _.__wbg_containerstartupoptions_free(n, 1);
});
var _e = typeof FinalizationRegistry > "u" ? { register: /* @__PURE__ */ __name(() => {
}, "register"), unregister: /* @__PURE__ */ __name(() => {
}, "unregister") } : new FinalizationRegistry(({ ptr: n, instance: e }) => {
  e === c && _.__wbg_intounderlyingbytesource_free(n, 1);
});
var ie = typeof FinalizationRegistry > "u" ? { register: /* @__PURE__ */ __name(() => {
}, "register"), unregister: /* @__PURE__ */ __name(() => {
}, "unregister") } : new FinalizationRegistry(({ ptr: n, instance: e }) => {
  e === c && _.__wbg_intounderlyingsink_free(n, 1);
});
var se = typeof FinalizationRegistry > "u" ? { register: /* @__PURE__ */ __name(() => {
}, "register"), unregister: /* @__PURE__ */ __name(() => {
}, "unregister") } : new FinalizationRegistry(({ ptr: n, instance: e }) => {
  e === c && _.__wbg_intounderlyingsource_free(n, 1);
});
var oe = typeof FinalizationRegistry > "u" ? { register: /* @__PURE__ */ __name(() => {
}, "register"), unregister: /* @__PURE__ */ __name(() => {
}, "unregister") } : new FinalizationRegistry(({ ptr: n, instance: e }) => {
  e === c && _.__wbg_minifyconfig_free(n, 1);
});
var ce = typeof FinalizationRegistry > "u" ? { register: /* @__PURE__ */ __name(() => {
}, "register"), unregister: /* @__PURE__ */ __name(() => {
}, "unregister") } : new FinalizationRegistry(({ ptr: n, instance: e }) => {
  e === c && _.__wbg_r2range_free(n, 1);
});
function l(n) {
  let e = _.__externref_table_alloc();
  return _.__wbindgen_externrefs.set(e, n), e;
}
__name(l, "l");
var J = typeof FinalizationRegistry > "u" ? { register: /* @__PURE__ */ __name(() => {
}, "register"), unregister: /* @__PURE__ */ __name(() => {
}, "unregister") } : new FinalizationRegistry((n) => {
  n.instance === c && _.__wbindgen_destroy_closure(n.a, n.b);
});
function Y(n) {
  switch (typeof n) {
    case "number":
    case "boolean":
    case "undefined":
      return `${n}`;
    case "string":
      return JSON.stringify(n);
    case "bigint":
      return `${n}n`;
    case "symbol":
      return n.description !== void 0 ? `Symbol(${n.description})` : "Symbol";
    case "function":
      return typeof n.name == "string" && n.name !== "" ? `Function(${n.name})` : "Function";
    case "object": {
      if (n === null) return "null";
      if (Array.isArray(n)) return "[" + Array.from(n, Y).join(", ") + "]";
      if (n instanceof Error) return `${n.name}: ${n.message}
${n.stack}`;
      let e = toString.call(n), t = /\[object ([^\]]+)\]/.exec(e)?.[1];
      if (t === void 0) return e;
      if (t === "Object") try {
        return "Object(" + JSON.stringify(n) + ")";
      } catch {
        return "Object";
      }
      return t;
    }
  }
}
__name(Y, "Y");
function ae(n, e) {
  n = n >>> 0;
  let t = w(), r = [];
  for (let i = n; i < n + 4 * e; i += 4) r.push(_.__wbindgen_externrefs.get(t.getUint32(i, true)));
  return _.__externref_drop_slice(n, e), r;
}
__name(ae, "ae");
function fe(n, e) {
  return n = n >>> 0, j().subarray(n / 1, n / 1 + e);
}
__name(fe, "fe");
var y = null;
function w() {
  return (y === null || y.buffer.detached === true || y.buffer.detached === void 0 && y.buffer !== _.memory.buffer) && (y = new DataView(_.memory.buffer)), y;
}
__name(w, "w");
var R = null;
function N() {
  return (R === null || R.byteLength === 0) && (R = new Int32Array(_.memory.buffer)), R;
}
__name(N, "N");
function p(n, e) {
  return n = n >>> 0, we(j().subarray(n, n + e));
}
__name(p, "p");
var W = null;
function j() {
  return (W === null || W.byteLength === 0) && (W = new Uint8Array(_.memory.buffer)), W;
}
__name(j, "j");
function b(n) {
  return n == null;
}
__name(b, "b");
function ue(n, e, t) {
  let r = { a: n, b: e, cnt: 1, instance: c }, i = /* @__PURE__ */ __name((...f) => {
    if (r.instance !== c) throw new Error("Cannot invoke closure from previous WASM instance");
    r.cnt++;
    let a = r.a;
    r.a = 0;
    try {
      return t(a, r.b, ...f);
    } finally {
      r.a = a, i._wbg_cb_unref();
    }
  }, "i");
  return i._wbg_cb_unref = () => {
    --r.cnt === 0 && (_.__wbindgen_destroy_closure(r.a, r.b), r.a = 0, J.unregister(r));
  }, J.register(i, r, r), i;
}
__name(ue, "ue");
function be(n, e) {
  let t = e(n.length * 4, 4) >>> 0;
  for (let r = 0; r < n.length; r++) {
    let i = l(n[r]);
    w().setUint32(t + 4 * r, i, true);
  }
  return g = n.length, t;
}
__name(be, "be");
function E(n, e, t) {
  if (t === void 0) {
    let u = F.encode(n), d = e(u.length, 1) >>> 0;
    return j().subarray(d, d + u.length).set(u), g = u.length, d;
  }
  let r = n.length, i = e(r, 1) >>> 0, f = j(), a = 0;
  for (; a < r; a++) {
    let u = n.charCodeAt(a);
    if (u > 127) break;
    f[i + a] = u;
  }
  if (a !== r) {
    a !== 0 && (n = n.slice(a)), i = t(i, r, r = a + n.length * 3, 1) >>> 0;
    let u = j().subarray(i + a, i + r), d = F.encodeInto(n, u);
    a += d.written, i = t(i, r, a, 1) >>> 0;
  }
  return g = a, i;
}
__name(E, "E");
var O = false;
function de(n) {
  let e = _.__wbindgen_externrefs.get(n);
  return _.__externref_table_dealloc(n), e;
}
__name(de, "de");
var Z = new TextDecoder("utf-8", { ignoreBOM: true });
Z.decode();
function we(n) {
  return Z.decode(n);
}
__name(we, "we");
var F = new TextEncoder();
"encodeInto" in F || (F.encodeInto = function(n, e) {
  let t = F.encode(n);
  return e.set(t), { read: n.length, written: t.length };
});
var g = 0;
var U = new WebAssembly.Instance(H, Q());
var _ = U.exports;
_.__wbindgen_start();
Error.stackTraceLimit = 100;
var h = G();
function $() {
  h.criticalError && (console.log("Reinitializing Wasm application"), z(), h.criticalError = false, h.instanceId++);
}
__name($, "$");
addEventListener("error", (n) => {
  V(n.error);
});
function V(n) {
  n instanceof WebAssembly.RuntimeError && (console.error("Critical", n), h.criticalError = true);
}
__name(V, "V");
var T = class extends le {
  static {
    __name(this, "T");
  }
};
T.prototype.fetch = function(e) {
  return K.call(this, e, this.env, this.ctx);
};
var he = { set: /* @__PURE__ */ __name((n, e, t, r) => Reflect.set(n.instance, e, t, r), "set"), has: /* @__PURE__ */ __name((n, e) => Reflect.has(n.instance, e), "has"), deleteProperty: /* @__PURE__ */ __name((n, e) => Reflect.deleteProperty(n.instance, e), "deleteProperty"), apply: /* @__PURE__ */ __name((n, e, t) => Reflect.apply(n.instance, e, t), "apply"), construct: /* @__PURE__ */ __name((n, e, t) => Reflect.construct(n.instance, e, t), "construct"), getPrototypeOf: /* @__PURE__ */ __name((n) => Reflect.getPrototypeOf(n.instance), "getPrototypeOf"), setPrototypeOf: /* @__PURE__ */ __name((n, e) => Reflect.setPrototypeOf(n.instance, e), "setPrototypeOf"), isExtensible: /* @__PURE__ */ __name((n) => Reflect.isExtensible(n.instance), "isExtensible"), preventExtensions: /* @__PURE__ */ __name((n) => Reflect.preventExtensions(n.instance), "preventExtensions"), getOwnPropertyDescriptor: /* @__PURE__ */ __name((n, e) => Reflect.getOwnPropertyDescriptor(n.instance, e), "getOwnPropertyDescriptor"), defineProperty: /* @__PURE__ */ __name((n, e, t) => Reflect.defineProperty(n.instance, e, t), "defineProperty"), ownKeys: /* @__PURE__ */ __name((n) => Reflect.ownKeys(n.instance), "ownKeys") };
var P = { construct(n, e, t) {
  try {
    $();
    let r = { instance: Reflect.construct(n, e, t), instanceId: h.instanceId, ctor: n, args: e, newTarget: t };
    return new Proxy(r, { ...he, get(i, f, a) {
      i.instanceId !== h.instanceId && (i.instance = Reflect.construct(i.ctor, i.args, i.newTarget), i.instanceId = h.instanceId);
      let u = Reflect.get(i.instance, f, a);
      return typeof u != "function" ? u : u.constructor === Function ? new Proxy(u, { apply(d, M, C) {
        $();
        try {
          return d.apply(M, C);
        } catch (x) {
          throw V(x), x;
        }
      } }) : new Proxy(u, { async apply(d, M, C) {
        $();
        try {
          return await d.apply(M, C);
        } catch (x) {
          throw V(x), x;
        }
      } });
    } });
  } catch (r) {
    throw h.criticalError = true, r;
  }
} };
var Ie = new Proxy(T, P);
var xe = new Proxy(m, P);
var Ee = new Proxy(v, P);
var Re = new Proxy(I, P);

// ../../node_modules/wrangler/templates/middleware/middleware-ensure-req-body-drained.ts
var drainBody = /* @__PURE__ */ __name(async (request, env, _ctx, middlewareCtx) => {
  try {
    return await middlewareCtx.next(request, env);
  } finally {
    try {
      if (request.body !== null && !request.bodyUsed) {
        const reader = request.body.getReader();
        while (!(await reader.read()).done) {
        }
      }
    } catch (e) {
      console.error("Failed to drain the unused request body.", e);
    }
  }
}, "drainBody");
var middleware_ensure_req_body_drained_default = drainBody;

// ../../node_modules/wrangler/templates/middleware/middleware-miniflare3-json-error.ts
function reduceError(e) {
  return {
    name: e?.name,
    message: e?.message ?? String(e),
    stack: e?.stack,
    cause: e?.cause === void 0 ? void 0 : reduceError(e.cause)
  };
}
__name(reduceError, "reduceError");
var jsonError = /* @__PURE__ */ __name(async (request, env, _ctx, middlewareCtx) => {
  try {
    return await middlewareCtx.next(request, env);
  } catch (e) {
    const error = reduceError(e);
    return Response.json(error, {
      status: 500,
      headers: { "MF-Experimental-Error-Stack": "true" }
    });
  }
}, "jsonError");
var middleware_miniflare3_json_error_default = jsonError;

// wrangler-config:config:middleware/patch-console-prefix
var prefix = "[fhir-iq-create-vector-embedding]";

// ../../node_modules/wrangler/templates/middleware/middleware-patch-console-prefix.ts
["log", "debug", "info"].forEach((method) => {
  globalThis.console[method] = new Proxy(globalThis.console[method], {
    apply(target, thisArg, argumentsList) {
      return target.apply(thisArg, [prefix, ...argumentsList]);
    }
  });
});
var passthrough = /* @__PURE__ */ __name((request, env, _ctx, middlewareCtx) => {
  return middlewareCtx.next(request, env);
}, "passthrough");
var middleware_patch_console_prefix_default = passthrough;

// .wrangler/tmp/bundle-ZyC11b/middleware-insertion-facade.js
var __INTERNAL_WRANGLER_MIDDLEWARE__ = [
  middleware_ensure_req_body_drained_default,
  middleware_miniflare3_json_error_default,
  middleware_patch_console_prefix_default
];
var middleware_insertion_facade_default = Ie;

// ../../node_modules/wrangler/templates/middleware/common.ts
var __facade_middleware__ = [];
function __facade_register__(...args) {
  __facade_middleware__.push(...args.flat());
}
__name(__facade_register__, "__facade_register__");
function __facade_invokeChain__(request, env, ctx, dispatch, middlewareChain) {
  const [head, ...tail] = middlewareChain;
  const middlewareCtx = {
    dispatch,
    next(newRequest, newEnv) {
      return __facade_invokeChain__(newRequest, newEnv, ctx, dispatch, tail);
    }
  };
  return head(request, env, ctx, middlewareCtx);
}
__name(__facade_invokeChain__, "__facade_invokeChain__");
function __facade_invoke__(request, env, ctx, dispatch, finalMiddleware) {
  return __facade_invokeChain__(request, env, ctx, dispatch, [
    ...__facade_middleware__,
    finalMiddleware
  ]);
}
__name(__facade_invoke__, "__facade_invoke__");

// .wrangler/tmp/bundle-ZyC11b/middleware-loader.entry.ts
var __Facade_ScheduledController__ = class ___Facade_ScheduledController__ {
  constructor(scheduledTime, cron, noRetry) {
    this.scheduledTime = scheduledTime;
    this.cron = cron;
    this.#noRetry = noRetry;
  }
  static {
    __name(this, "__Facade_ScheduledController__");
  }
  #noRetry;
  noRetry() {
    if (!(this instanceof ___Facade_ScheduledController__)) {
      throw new TypeError("Illegal invocation");
    }
    this.#noRetry();
  }
};
function wrapExportedHandler(worker) {
  if (__INTERNAL_WRANGLER_MIDDLEWARE__ === void 0 || __INTERNAL_WRANGLER_MIDDLEWARE__.length === 0) {
    return worker;
  }
  for (const middleware of __INTERNAL_WRANGLER_MIDDLEWARE__) {
    __facade_register__(middleware);
  }
  const fetchDispatcher = /* @__PURE__ */ __name(function(request, env, ctx) {
    if (worker.fetch === void 0) {
      throw new Error("Handler does not export a fetch() function.");
    }
    return worker.fetch(request, env, ctx);
  }, "fetchDispatcher");
  return {
    ...worker,
    fetch(request, env, ctx) {
      const dispatcher = /* @__PURE__ */ __name(function(type, init) {
        if (type === "scheduled" && worker.scheduled !== void 0) {
          const controller = new __Facade_ScheduledController__(
            Date.now(),
            init.cron ?? "",
            () => {
            }
          );
          return worker.scheduled(controller, env, ctx);
        }
      }, "dispatcher");
      return __facade_invoke__(request, env, ctx, dispatcher, fetchDispatcher);
    }
  };
}
__name(wrapExportedHandler, "wrapExportedHandler");
function wrapWorkerEntrypoint(klass) {
  if (__INTERNAL_WRANGLER_MIDDLEWARE__ === void 0 || __INTERNAL_WRANGLER_MIDDLEWARE__.length === 0) {
    return klass;
  }
  for (const middleware of __INTERNAL_WRANGLER_MIDDLEWARE__) {
    __facade_register__(middleware);
  }
  return class extends klass {
    #fetchDispatcher = /* @__PURE__ */ __name((request, env, ctx) => {
      this.env = env;
      this.ctx = ctx;
      if (super.fetch === void 0) {
        throw new Error("Entrypoint class does not define a fetch() function.");
      }
      return super.fetch(request);
    }, "#fetchDispatcher");
    #dispatcher = /* @__PURE__ */ __name((type, init) => {
      if (type === "scheduled" && super.scheduled !== void 0) {
        const controller = new __Facade_ScheduledController__(
          Date.now(),
          init.cron ?? "",
          () => {
          }
        );
        return super.scheduled(controller);
      }
    }, "#dispatcher");
    fetch(request) {
      return __facade_invoke__(
        request,
        this.env,
        this.ctx,
        this.#dispatcher,
        this.#fetchDispatcher
      );
    }
  };
}
__name(wrapWorkerEntrypoint, "wrapWorkerEntrypoint");
var WRAPPED_ENTRY;
if (typeof middleware_insertion_facade_default === "object") {
  WRAPPED_ENTRY = wrapExportedHandler(middleware_insertion_facade_default);
} else if (typeof middleware_insertion_facade_default === "function") {
  WRAPPED_ENTRY = wrapWorkerEntrypoint(middleware_insertion_facade_default);
}
var middleware_loader_entry_default = WRAPPED_ENTRY;
export {
  xe as ContainerStartupOptions,
  Ee as MinifyConfig,
  Re as R2Range,
  __INTERNAL_WRANGLER_MIDDLEWARE__,
  middleware_loader_entry_default as default
};
//# sourceMappingURL=index.js.map

# node-gyp entry point. It deliberately contains no sources or flags: its one target runs
# tools/build-native.mjs, which drives cmake-js over CMakeLists.txt and copies the result to
# build/Release/crossmodal.node. This keeps node-gyp-build's build-from-source fallback and
# `prebuildify --napi` working without duplicating the CMake configuration.
{
  "targets": [
    {
      "target_name": "crossmodal",
      "type": "none",
      "actions": [
        {
          "action_name": "cmake_js_build",
          "inputs": [],
          "outputs": ["<(module_root_dir)/build/Release/crossmodal.node"],
          "action": ["node", "<(module_root_dir)/tools/build-native.mjs", "--out", "<(module_root_dir)/build/Release/crossmodal.node"]
        }
      ]
    }
  ]
}

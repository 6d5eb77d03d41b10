{
  "targets": [
    {
      "target_name": "tether_native",
      "sources": [
        "native/scandir.c",
        "native/restore.c",
        "native/stats.c",
        "native/blake3/blake3.c",
        "native/blake3/blake3_dispatch.c",
        "native/blake3/blake3_portable.c"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        [
          "OS=='linux' and target_arch=='x64'",
          {
            "sources": [
              "native/blake3/blake3_sse2_x86-64_unix.S",
              "native/blake3/blake3_sse41_x86-64_unix.S",
              "native/blake3/blake3_avx2_x86-64_unix.S",
              "native/blake3/blake3_avx512_x86-64_unix.S"
            ]
          },
          {
            "defines": ["BLAKE3_NO_SSE2", "BLAKE3_NO_SSE41", "BLAKE3_NO_AVX2", "BLAKE3_NO_AVX512"]
          }
        ]
      ]
    }
  ],
  "conditions": [
    [
      "OS=='linux' and '<!(pkg-config --exists fuse3 && echo yes || echo no)'=='yes'",
      {
        "targets": [
          {
            "target_name": "tether_fuse",
            "sources": [
              "native/lowlevel.c",
              "native/lowlevel_calls.c",
              "native/lowlevel_reply.c",
              "native/lowlevel_notify.c",
              "native/lowlevel_direct.c",
              "native/lowlevel_list.c",
              "native/lowlevel_nodes.c",
              "native/lowlevel_create.c",
              "native/lowlevel_notes.c"
            ],
            "cflags": [
              "-O2",
              "-Wall",
              "-Wextra",
              "-Wno-unused-parameter",
              "<!@(pkg-config --cflags fuse3)"
            ],
            "libraries": ["<!@(pkg-config --libs fuse3)"]
          }
        ]
      }
    ]
  ]
}

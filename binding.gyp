{
  "targets": [
    {
      "target_name": "tether_native",
      "sources": ["native/scandir.c", "native/restore.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
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
              "native/lowlevel_create.c"
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

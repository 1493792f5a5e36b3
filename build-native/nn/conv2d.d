build-native/nn/conv2d.o: nn/conv2d.c nn/layers.h nn/arena.h util/err.h \
 nn/conv3x3.h /usr/include/x86_64-linux-gnu/openblas-openmp/cblas.h \
 /usr/include/x86_64-linux-gnu/openblas-openmp/openblas_config.h
nn/layers.h:
nn/arena.h:
util/err.h:
nn/conv3x3.h:
/usr/include/x86_64-linux-gnu/openblas-openmp/cblas.h:
/usr/include/x86_64-linux-gnu/openblas-openmp/openblas_config.h:

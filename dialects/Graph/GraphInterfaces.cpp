//===- GraphInterfaces.cpp - Graph dialect op interfaces ------------------===//

#include "Graph/GraphOps.h"

#include "Graph/GraphInterfaces.cpp.inc"

//===- GraphDetectionOps.td - Graph dialect: detection heads -*- tablegen -*-===//
//
// Detection heads as GluonCV exports them: box_nms, box_iou, MultiBoxPrior,
// MultiBoxDetection, ROIPooling, ROIAlign, Proposal.
// An op family of its own (GraphBase.td): its ops are declared in
// Graph/GraphDetectionOps.h, defined in dialects/Graph/DetectionOps.cpp, run by
// lib/Interpreter/DetectionOps.cpp and lowered by
// lib/Conversion/GraphToLinalg/DetectionOps.cpp; GraphDialect.cpp registers them
// and their MXNet names.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_DETECTION_OPS
#define KILN_GRAPH_DETECTION_OPS

include "Graph/GraphBase.td"

#endif // KILN_GRAPH_DETECTION_OPS

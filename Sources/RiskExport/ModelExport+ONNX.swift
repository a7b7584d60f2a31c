import Foundation
import RiskEngine
import RiskModels
import SwiftProtobuf

extension ModelExport {
    /// The ONNX input: a float tensor [rows, columns] of expanded rows, in the artifact's column order.
    static let onnxInput = "features"
    /// The ONNX outputs: the predicted class (0 or 1, at 0.5) and [P(genuine), P(fraud)] per row.
    static let onnxOutputs = (label: "label", probabilities: "probabilities")
    /// ONNX IR version 8 with opset 13 and ai.onnx.ml 1: read by onnxruntime 1.10 and later.
    static let onnxIRVersion: Int64 = 8

    /// An ONNX-ML model for logistic regression: one `LinearClassifier` node (classes 0 and 1,
    /// coefficients −w and w, intercepts −b and b, `LOGISTIC` post-transform), so the second
    /// probability is σ(b + w·x) with the raw-scale weights (standardisation and Platt
    /// calibration folded in). ONNX computes in float32: expect agreement to about 1e-6.
    /// The model id, spec hash and column names are in the metadata.
    func onnx() throws(EngineError) -> Data {
        let (weights, intercept) = try linearForm(for: .onnx)
        var node = Onnx_NodeProto()
        node.name = "linear_classifier"
        node.opType = "LinearClassifier"
        node.domain = "ai.onnx.ml"
        node.input = [Self.onnxInput]
        node.output = [Self.onnxOutputs.label, Self.onnxOutputs.probabilities]
        node.attribute = [
            Self.attribute("coefficients", floats: weights.map { Float(-$0) } + weights.map { Float($0) }),
            Self.attribute("intercepts", floats: [Float(-intercept), Float(intercept)]),
            Self.attribute("classlabels_ints", ints: [0, 1]),
            Self.attribute("post_transform", string: "LOGISTIC"),
            Self.attribute("multi_class", ints: nil, int: 0),
        ]

        var graph = Onnx_GraphProto()
        graph.name = artifact.id
        graph.node = [node]
        graph.input = [Self.tensor(Self.onnxInput, type: .float, shape: [nil, Int64(columns.count)])]
        graph.output = [
            Self.tensor(Self.onnxOutputs.label, type: .int64, shape: [nil]),
            Self.tensor(Self.onnxOutputs.probabilities, type: .float, shape: [nil, 2]),
        ]

        var model = Onnx_ModelProto()
        model.irVersion = Self.onnxIRVersion
        model.producerName = "RiskLoop"
        model.producerVersion = artifact.format
        model.docString = "RiskLoop \(artifact.algorithm.rawValue) model \(artifact.id); input: the expanded columns of its feature spec"
        model.opsetImport = [Self.opset("", 13), Self.opset("ai.onnx.ml", 1)]
        model.graph = graph
        let columnNames = String(decoding: (try? JSONEncoder().encode(artifact.columns)) ?? Data("[]".utf8), as: UTF8.self)
        model.metadataProps = [
            Self.entry("model_id", artifact.id), Self.entry("feature_spec_sha256", artifact.featureSpecSHA256),
            Self.entry("artifact_sha256", artifact.sha256 ?? ""), Self.entry("created_at", artifact.createdAt.rfc3339),
            Self.entry("columns", columnNames),
        ]
        do {
            return try model.serializedBytes()
        } catch {
            preconditionFailure("an ONNX model of known fields always serialises: \(error)")
        }
    }

    static func attribute(_ name: String, floats: [Float]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .floats
        attribute.floats = floats
        return attribute
    }

    static func attribute(_ name: String, ints: [Int64]?, int: Int64? = nil) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        if let ints {
            attribute.type = .ints
            attribute.ints = ints
        } else if let int {
            attribute.type = .int
            attribute.i = int
        }
        return attribute
    }

    static func attribute(_ name: String, string: String) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .string
        attribute.s = Data(string.utf8)
        return attribute
    }

    /// A tensor value of `type`; a `nil` dimension is the batch size, named `rows`.
    static func tensor(_ name: String, type: Onnx_TensorProto.DataType, shape: [Int64?]) -> Onnx_ValueInfoProto {
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(type.rawValue)
        tensor.shape.dim = shape.map { size in
            var dimension = Onnx_TensorShapeProto.Dimension()
            if let size { dimension.dimValue = size } else { dimension.dimParam = "rows" }
            return dimension
        }
        var value = Onnx_ValueInfoProto()
        value.name = name
        value.type.tensorType = tensor
        return value
    }

    static func opset(_ domain: String, _ version: Int64) -> Onnx_OperatorSetIdProto {
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = domain
        opset.version = version
        return opset
    }

    static func entry(_ key: String, _ value: String) -> Onnx_StringStringEntryProto {
        var entry = Onnx_StringStringEntryProto()
        entry.key = key
        entry.value = value
        return entry
    }
}

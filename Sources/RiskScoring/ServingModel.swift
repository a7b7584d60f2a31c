import Foundation
import RiskContract
import RiskFeatures
import RiskModels

/// A model ready to serve events: the artifact, its compiled feature spec, and the words that
/// explain each column. A class: the scorer hands it to every call, and a copy is then one
/// reference count.
public final class ServingModel: Sendable {
    public let compiled: CompiledModel
    public let extractor: FeatureExtractor
    let explainer: Explainer
    /// What every score names, taken out of the artifact once.
    let id: String, specSHA256: String, columns: [String]

    public var artifact: ModelArtifact { compiled.artifact }

    /// What column `column` means, in the words of the spec's descriptions:
    /// `time since the SIM card was swapped: under 24 h and payee is new for this customer`.
    public func meaning(column: Int) -> String {
        explainer.text(column: column, value: 1, event: nil)
    }

    /// Prepares `artifact`, which must have been trained on events through a feature spec.
    public init(_ artifact: ModelArtifact) throws(ScoringError) {
        guard case .string(FeatureSpec.currentFormat)? = artifact.featureSpec[path: "format"],
            let data = try? JSONEncoder().encode(artifact.featureSpec)
        else {
            throw .unservableModel(reason: "it was trained on a table, not on events through a feature spec")
        }
        do {
            extractor = try FeatureExtractor(spec: try FeatureSpec.decode(from: data))
        } catch {
            throw .unservableModel(reason: "its feature spec does not compile: \(error)")
        }
        guard extractor.columns == artifact.columns else {
            throw .unservableModel(reason: "its feature spec expands to other columns than the model has")
        }
        compiled = CompiledModel(artifact)
        explainer = Explainer(extractor)
        (id, specSHA256, columns) = (artifact.id, artifact.featureSpecSHA256, artifact.columns)
    }

    /// Reads a model file (checking its SHA-256) and prepares it.
    public convenience init(contentsOf url: URL) throws(ScoringError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unservableModel(reason: "cannot read \(url.path): \(error)")
        }
        do {
            try self.init(try ModelArtifact.decode(from: data))
        } catch let error as ScoringError {
            throw error
        } catch {
            throw .unservableModel(reason: "\(error)")
        }
    }
}

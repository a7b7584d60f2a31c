import Foundation

/// A small XY chart as inline SVG (no scripts, no fonts to fetch), for the model card and the
/// demo report: lines, lines with points, or bars, on linear axes.
///
/// ```swift
/// var chart = SVGChart(title: "ROC", x: .init(label: "false positive rate"), y: .init(label: "true positive rate"))
/// chart.series.append(.init(name: "model", color: "#1b6ac9", points: roc))
/// let svg = chart.svg()
/// ```
public struct SVGChart: Sendable {
    public struct Axis: Sendable {
        public var label: String
        public var range: ClosedRange<Double>
        /// Tick positions and their text; `nil`: five even ticks over the range.
        public var ticks: [(value: Double, text: String)]?

        public init(label: String, range: ClosedRange<Double> = 0...1, ticks: [(value: Double, text: String)]? = nil) {
            self.label = label
            self.range = range
            self.ticks = ticks
        }
    }

    public struct Series: Sendable {
        public enum Style: Sendable {
            case line, lineWithPoints, dashed
            /// Bars from 0 to y, centred on x, this wide in x units.
            case bars(width: Double)
        }

        public var name: String
        public var color: String
        /// Points in order; a `nil` y breaks the line.
        public var points: [(x: Double, y: Double?)]
        public var style: Style

        public init(name: String, color: String, points: [(x: Double, y: Double?)], style: Style = .line) {
            self.name = name
            self.color = color
            self.points = points
            self.style = style
        }
    }

    public var title: String
    public var x: Axis
    public var y: Axis
    public var series: [Series] = []
    /// A dashed vertical line at this x (an event worth marking).
    public var marker: Double?
    public var width = 900.0
    public var height = 260.0

    public init(title: String, x: Axis, y: Axis, width: Double = 900, height: Double = 260) {
        self.title = title
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public func svg() -> String {
        let left = 56.0, right = 170.0, top = 30.0, bottom = 46.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func px(_ value: Double) -> Double {
            let span = x.range.upperBound - x.range.lowerBound
            return left + (span > 0 ? (value - x.range.lowerBound) / span : 0.5) * plotWidth
        }
        func py(_ value: Double) -> Double {
            let span = y.range.upperBound - y.range.lowerBound
            let clamped = min(max(value, y.range.lowerBound), y.range.upperBound)
            return top + plotHeight * (1 - (span > 0 ? (clamped - y.range.lowerBound) / span : 0.5))
        }
        func even(_ axis: Axis) -> [(value: Double, text: String)] {
            axis.ticks
                ?? (0...4).map { step in
                    let value = axis.range.lowerBound + (axis.range.upperBound - axis.range.lowerBound) * Double(step) / 4
                    return (value, Self.tick(value))
                }
        }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
        svg += "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" font-family=\"sans-serif\">"
        svg += "<text x=\"\(left)\" y=\"18\" font-weight=\"bold\" font-size=\"13\">\(HTML.escape(title))</text>"
        for tick in even(y) {
            svg += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(py(tick.value))\" y2=\"\(py(tick.value))\" stroke=\"#eee\"/>"
            svg +=
                "<text x=\"\(left - 6)\" y=\"\(py(tick.value) + 4)\" text-anchor=\"end\" font-size=\"11\">\(HTML.escape(tick.text))</text>"
        }
        for tick in even(x) {
            svg += "<text x=\"\(px(tick.value))\" y=\"\(top + plotHeight + 15)\" text-anchor=\"middle\" font-size=\"10\">"
            svg += "\(HTML.escape(tick.text))</text>"
        }
        svg += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(top + plotHeight)\" y2=\"\(top + plotHeight)\" stroke=\"#999\"/>"
        svg += "<line x1=\"\(left)\" x2=\"\(left)\" y1=\"\(top)\" y2=\"\(top + plotHeight)\" stroke=\"#999\"/>"
        svg +=
            "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 6)\" text-anchor=\"middle\" font-size=\"11\">\(HTML.escape(x.label))</text>"
        svg += "<text transform=\"translate(12 \(top + plotHeight / 2)) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">"
        svg += "\(HTML.escape(y.label))</text>"
        if let marker {
            svg += "<line x1=\"\(px(marker))\" x2=\"\(px(marker))\" y1=\"\(top)\" y2=\"\(top + plotHeight)\" stroke=\"#888\" "
            svg += "stroke-dasharray=\"4 3\"/>"
        }
        for (number, series) in series.enumerated() {
            switch series.style {
            case .bars(let barWidth):
                for point in series.points {
                    guard let value = point.y else { continue }
                    let x0 = px(point.x - barWidth / 2), x1 = px(point.x + barWidth / 2), base = py(max(y.range.lowerBound, 0))
                    svg += "<rect x=\"\(x0)\" y=\"\(min(py(value), base))\" width=\"\(max(x1 - x0, 0.5))\" "
                    svg += "height=\"\(abs(base - py(value)))\" fill=\"\(series.color)\" fill-opacity=\"0.55\"/>"
                }
            case .line, .lineWithPoints, .dashed:
                // A nil value ends a run of points.
                var runs: [[(Double, Double)]] = [[]]
                for point in series.points {
                    if let value = point.y { runs[runs.count - 1].append((px(point.x), py(value))) } else { runs.append([]) }
                }
                let dash = if case .dashed = series.style { " stroke-dasharray=\"5 4\"" } else { "" }
                for run in runs where !run.isEmpty {
                    svg += "<polyline fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"2\"\(dash) points=\""
                    svg += run.map { "\(Self.coordinate($0.0)),\(Self.coordinate($0.1))" }.joined(separator: " ") + "\"/>"
                    if case .lineWithPoints = series.style {
                        for point in run {
                            svg +=
                                "<circle cx=\"\(Self.coordinate(point.0))\" cy=\"\(Self.coordinate(point.1))\" r=\"3\" fill=\"\(series.color)\"/>"
                        }
                    }
                }
            }
            let legendY = top + 10 + Double(number) * 18
            svg += "<line x1=\"\(width - right + 15)\" x2=\"\(width - right + 35)\" y1=\"\(legendY)\" y2=\"\(legendY)\" "
            svg += "stroke=\"\(series.color)\" stroke-width=\"\(series.style.isBars ? 8 : 2)\"/>"
            svg += "<text x=\"\(width - right + 40)\" y=\"\(legendY + 4)\" font-size=\"12\">\(HTML.escape(series.name))</text>"
        }
        return svg + "</svg>"
    }

    static func coordinate(_ value: Double) -> String { String(format: "%.1f", value) }

    static func tick(_ value: Double) -> String {
        value == value.rounded() && abs(value) >= 2 ? String(Int(value)) : String(format: "%.2f", value)
    }
}

extension SVGChart.Series.Style {
    var isBars: Bool { if case .bars = self { true } else { false } }
}

/// Text for HTML and SVG.
public enum HTML {
    /// The stylesheet of RiskLoop's HTML reports (the model card, the backtest).
    public static let style = """
        <style>
        body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; }
        table { border-collapse: collapse; margin: 0.6em 0 1.2em; } td, th { padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; } td { overflow-wrap: anywhere; } th { white-space: nowrap; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; overflow-wrap: normal; } code { font-size: 12px; } svg { display: inline-block; vertical-align: top; margin: 0.8em 0.5em 0.8em 0; }
        .muted { color: #666; }
        </style>
        """

    /// `text` with `&`, `<`, `>` and `"` escaped.
    public static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            default: output.append(character)
            }
        }
        return output
    }
}

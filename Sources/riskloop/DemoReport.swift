import Foundation
import RiskContract
import RiskEngine
import RiskFeatures
import RiskStore

/// The demo's report: one self-contained HTML file with inline SVG charts (no scripts, no
/// network), so it opens anywhere and can be archived with the run.
enum DemoReport {
    /// - Parameter trainDays: the days the first (frozen) model was trained on.
    static func html(
        _ report: FeedbackReplay.Report, driftAt: Timestamp, trainDays: Int, title: String, operators: OperatorTallies? = nil
    ) -> String {
        var operatorTable = ""
        if let operators {
            let events = report.weeks.map(\.events).reduce(0, +)
            let rows = [("always", operators.always), ("cost-aware", operators.costAware), ("never", operators.never)].map { name, tally in
                let perThousand = events > 0 ? tally.cost / Double(events) * 1000 : 0
                return
                    "<tr><td>\(name)</td><td>\(tally.calls)</td><td>\(String(format: "%.2f", perThousand))</td><td>\(tally.fraudCaught)</td><td>\(tally.fraudMissed)</td></tr>"
            }.joined(separator: "\n")
            operatorTable = """
                <h2>Operator signals</h2>
                <p>Every replayed event came with the customer's line and no telco signals; each was asked of a stub operator under
                three strategies in one pass: every API always, only what could change the decision (cost-aware, with a 2% share
                acquiring everything), or never. The champion decided with the cost-aware event.</p>
                <table><tr><th>strategy</th><th>calls</th><th>cost per 1,000 events</th><th>fraud caught</th><th>fraud missed</th></tr>
                \(rows)</table>
                """
        }
        let weeks = report.weeks
        let labels = weeks.map { String($0.start.rfc3339.prefix(10)) }
        let driftIndex = weeks.firstIndex { driftAt < $0.start.adding(days: 7) }
        let apChart = lineChart(
            title: "Average precision per week (against ground truth)", labels: labels,
            series: [
                ("adapting champion", "#1b6ac9", weeks.map(\.adaptingAP)),
                ("frozen day-\(trainDays) model", "#c0392b", weeks.map(\.frozenAP)),
            ], maximum: 1, marker: driftIndex)
        let missedMaximum = Double(weeks.map { max($0.missed, $0.frozenMissed) }.max() ?? 1)
        let missedChart = lineChart(
            title: "Fraud events allowed per week", labels: labels,
            series: [
                ("adapting champion", "#1b6ac9", weeks.map { Double($0.missed) }),
                ("frozen model", "#c0392b", weeks.map { Double($0.frozenMissed) }),
            ], maximum: max(missedMaximum, 1), marker: driftIndex)
        var rows = ""
        for week in weeks {
            rows += "<tr><td>\(week.start.rfc3339.prefix(10))</td><td>\(week.events)</td><td>\(week.fraud)</td><td>\(week.caught)</td>"
            rows += "<td>\(week.missed)</td><td>\(week.falseAlarms)</td><td>\(week.frozenMissed)</td>"
            rows += "<td>\(number(week.adaptingAP))</td><td>\(number(week.frozenAP))</td>"
            rows += "<td>\(week.reviews)</td><td>\(week.casesResolved)</td><td>\(week.casesOpen)</td>"
            rows += "<td>\(week.fraudLabelDays.map { String(format: "%.1f", $0) } ?? "n/a")</td><td>\(escape(week.champion))</td></tr>\n"
        }
        var cycles = ""
        for cycle in report.cycles {
            cycles += "<tr><td>\(cycle.asOf.rfc3339.prefix(10))</td><td>\(escape(cycle.trigger))</td><td>\(escape(cycle.challengerId))</td>"
            cycles += "<td>\(cycle.outcome.rawValue)</td><td>\(escape(cycle.reason))</td></tr>\n"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; }
            table { border-collapse: collapse; margin: 1em 0; } td, th { padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right; }
            td:last-child, th:last-child { text-align: left; } svg { display: block; margin: 1em 0; }
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p>The first champion (\(escape(report.frozenId))) was trained on the first days; then every event was scored in order by the
            adapting champion and by a frozen copy of the first model, labels arrived with their real delay, and the feedback loop
            retrained when its trigger held. Fraudsters changed tactics on \(driftAt.rfc3339.prefix(10)) (dashed line).
            Ground truth grades the weeks; the engine never saw it.</p>
            \(apChart)
            \(missedChart)
            <h2>Weeks</h2>
            <table><tr><th>week of</th><th>events</th><th>fraud</th><th>caught</th><th>missed</th><th>false alarms</th>
            <th>frozen missed</th><th>AP adapting</th><th>AP frozen</th><th>reviews</th><th>cases resolved</th><th>cases open</th>
            <th>days to a fraud label</th><th>champion</th></tr>
            \(rows)</table>
            <p>Caught: fraud events the champion's decision did not allow (step-up, review or block). False alarms: genuine events sent to
            review or blocked. \(report.decisionsLogged) decisions were logged with their model and policy versions. Every review
            opened a case in the analysts' queue; a simulated analyst resolved each with the ground truth some days after its event (--analyst-days, 2 by default)
            (a label the loop learns from); the last column is the median days from a fraud event to its first label.</p>
            \(operatorTable)
            <h2>Retraining cycles</h2>
            <table><tr><th>as of</th><th>trigger</th><th>challenger</th><th>outcome</th><th>reason</th></tr>
            \(cycles)</table>
            </body></html>

            """
    }

    /// A line chart of weekly values (nil: no point) in SVG.
    static func lineChart(title: String, labels: [String], series: [(String, String, [Double?])], maximum: Double, marker: Int?) -> String {
        let width = 900.0, height = 260.0, left = 50.0, right = 170.0, top = 30.0, bottom = 40.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ index: Int) -> Double { left + (labels.count > 1 ? Double(index) / Double(labels.count - 1) : 0.5) * plotWidth }
        func y(_ value: Double) -> Double { top + plotHeight * (1 - value / maximum) }
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\">"
        svg += "<text x=\"\(left)\" y=\"18\" font-weight=\"bold\">\(escape(title))</text>"
        for step in 0...4 {
            let value = maximum * Double(step) / 4
            svg += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(y(value))\" y2=\"\(y(value))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y(value) + 4)\" text-anchor=\"end\" font-size=\"11\">\(format(value))</text>"
        }
        for (index, label) in labels.enumerated() {
            svg += "<text x=\"\(x(index))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\" font-size=\"10\">\(label.suffix(5))</text>"
        }
        if let marker {
            svg +=
                "<line x1=\"\(x(marker))\" x2=\"\(x(marker))\" y1=\"\(top)\" y2=\"\(top + plotHeight)\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>"
        }
        for (number, (name, color, values)) in series.enumerated() {
            let points = values.enumerated().compactMap { index, value in value.map { (x: x(index), y: y($0)) } }
            svg +=
                "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.map { "\($0.x),\($0.y)" }.joined(separator: " "))\"/>"
            for point in points { svg += "<circle cx=\"\(point.x)\" cy=\"\(point.y)\" r=\"3\" fill=\"\(color)\"/>" }
            let legendY = top + 10 + Double(number) * 18
            svg +=
                "<line x1=\"\(width - right + 15)\" x2=\"\(width - right + 35)\" y1=\"\(legendY)\" y2=\"\(legendY)\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            svg += "<text x=\"\(width - right + 40)\" y=\"\(legendY + 4)\" font-size=\"12\">\(escape(name))</text>"
        }
        return svg + "</svg>"
    }

    static func number(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a" }

    static func format(_ value: Double) -> String {
        value == value.rounded() && value >= 2 ? String(Int(value)) : String(format: "%.2f", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;"
        ).replacingOccurrences(of: "\"", with: "&quot;")
    }
}

import Foundation
import RiskContract
import RiskEngine

/// A backtest as one HTML file with inline SVG (`riskloop backtest --report`): the two sides'
/// outcomes, each rule's hits and precision, a chart per week, and the decisions that would change.
public struct BacktestPage: Sendable {
    public let report: Backtest.Report
    /// The most changed decisions listed (all are in the JSON).
    public static let changesListed = 200

    public init(_ report: Backtest.Report) {
        self.report = report
    }

    public func html() -> String {
        let title = "Backtest \(report.from.rfc3339) to \(report.to.rfc3339)"
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(title))</title>
            \(HTML.style)</head><body>
            <h1>\(HTML.escape(title))</h1>
            <p>Every decision logged in the period re-decided with the candidate (model \(HTML.escape(report.model ?? "as logged")), \
            policy \(HTML.escape(report.policy ?? "as logged"))), in time order with the history a serving scorer had, against the \
            labels known at \(report.labelsKnownAt.rfc3339). \(report.decisions) decisions\
            \(report.eventsMissing > 0 ? ", \(report.eventsMissing) of them without their event (retention) and left out" : "").</p>
            <p class="muted">Caught: labelled fraud not allowed. Missed: labelled fraud allowed. False alarm: not labelled fraud, \
            reviewed or blocked. \(HTML.escape(report.note.prefix(1).uppercased() + report.note.dropFirst())).</p>
            <h2>Outcomes</h2>
            """
        html += table(
            header: ["", "logged", "candidate", "change"],
            rows: [
                row("fraud caught", report.logged.fraudCaught, report.candidate.fraudCaught),
                money("fraud caught, amount", report.logged.fraudCaughtAmount, report.candidate.fraudCaughtAmount),
                row("fraud missed", report.logged.fraudMissed, report.candidate.fraudMissed),
                money("fraud missed, amount", report.logged.fraudMissedAmount, report.candidate.fraudMissedAmount),
                row("false alarms", report.logged.falseAlarms, report.candidate.falseAlarms),
                row("step-ups (friction)", report.logged.stepUps, report.candidate.stepUps),
                money("reviews a day", report.logged.reviewsPerDay, report.candidate.reviewsPerDay),
            ])
        html += "<h2>Rules of the candidate's policy</h2>"
        if report.rules.isEmpty {
            html += "<p>The policy has no rules.</p>"
        } else {
            html += "<p class=\"muted\">A hit is an event whose rule condition held, whether or not it changed the decision.</p>"
            html += table(
                header: ["rule", "hits", "labelled fraud", "precision"],
                rows: report.rules.map { rule in
                    [HTML.escape(rule.name), "\(rule.hits)", "\(rule.fraud)", rule.precision.map { String(format: "%.3f", $0) } ?? "n/a"]
                })
        }
        html += "<h2>Week by week</h2>" + weeklyCharts()
        html += table(
            header: ["week from", "caught (logged → candidate)", "missed", "false alarms", "step-ups", "reviews a day"],
            rows: report.weeks.map { week in
                [
                    String(week.start.rfc3339.prefix(10)), "\(week.logged.fraudCaught) → \(week.candidate.fraudCaught)",
                    "\(week.logged.fraudMissed) → \(week.candidate.fraudMissed)",
                    "\(week.logged.falseAlarms) → \(week.candidate.falseAlarms)",
                    "\(week.logged.stepUps) → \(week.candidate.stepUps)",
                    String(format: "%.1f → %.1f", week.logged.reviewsPerDay, week.candidate.reviewsPerDay),
                ]
            })
        html += "<h2>Decisions that would change (\(report.changed.count))</h2>"
        if report.changed.count > Self.changesListed {
            html += "<p class=\"muted\">The first \(Self.changesListed) in time order; `--json` lists them all.</p>"
        }
        html += table(
            header: ["event", "occurred", "amount", "label", "logged", "candidate", "score logged → candidate"],
            rows: report.changed.prefix(Self.changesListed).map { change in
                [
                    "<code>\(HTML.escape(change.eventId))</code>", change.occurredAt.rfc3339,
                    change.amount.map { String(format: "%.2f", $0) } ?? "", change.label ?? "none", change.loggedDecision,
                    change.candidateDecision, String(format: "%.4f → %.4f", change.loggedScore, change.candidateScore),
                ]
            })
        return html + "</body></html>\n"
    }

    private func weeklyCharts() -> String {
        guard !report.weeks.isEmpty else { return "" }
        let weeks = report.weeks.indices.map(Double.init)
        let ticks = report.weeks.enumerated().map {
            (value: Double($0.offset), text: String($0.element.start.rfc3339.prefix(10).dropFirst(5)))
        }
        func chart(_ title: String, _ value: (Backtest.Summary) -> Double) -> String {
            let logged = report.weeks.map { value($0.logged) }, candidate = report.weeks.map { value($0.candidate) }
            let top = max(1, (logged + candidate).max() ?? 1)
            var chart = SVGChart(
                title: title, x: .init(label: "week", range: -0.5...(Double(report.weeks.count) - 0.5), ticks: ticks),
                y: .init(label: title, range: 0...(top * 1.1)), width: 470, height: 240)
            chart.series = [
                .init(
                    name: "logged", color: "#999", points: Array(zip(weeks.map { $0 - 0.2 }, logged.map(Optional.some))),
                    style: .bars(width: 0.35)),
                .init(
                    name: "candidate", color: "#1b6ac9", points: Array(zip(weeks.map { $0 + 0.2 }, candidate.map(Optional.some))),
                    style: .bars(width: 0.35)),
            ]
            return chart.svg()
        }
        return chart("fraud caught") { Double($0.fraudCaught) } + chart("false alarms") { Double($0.falseAlarms) }
            + chart("step-ups") { Double($0.stepUps) } + chart("reviews a day") { $0.reviewsPerDay }
    }

    private func row(_ name: String, _ logged: Int, _ candidate: Int) -> [String] {
        [name, "\(logged)", "\(candidate)", String(format: "%+d", candidate - logged)]
    }

    private func money(_ name: String, _ logged: Double, _ candidate: Double) -> [String] {
        [name, String(format: "%.2f", logged), String(format: "%.2f", candidate), String(format: "%+.2f", candidate - logged)]
    }

    /// A table whose cells are already HTML (numbers, or escaped text).
    private func table(header: [String], rows: [[String]]) -> String {
        var html = "<table><tr>" + header.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr>"
        for row in rows {
            html +=
                "<tr>" + row.enumerated().map { $0.offset == 0 ? "<td>\($0.element)</td>" : "<td class=\"n\">\($0.element)</td>" }.joined()
                + "</tr>"
        }
        return html + "</table>"
    }
}

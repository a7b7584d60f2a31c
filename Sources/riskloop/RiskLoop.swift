import ArgumentParser

@main
struct RiskLoop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "riskloop",
        abstract: "An adaptive fraud-risk engine for SS7, SIM-swap and call-forwarding fraud.",
        discussion: """
            RiskLoop turns telco signals (SIM swap, call forwarding, roaming, reachability, SS7 \
            monitoring) and transaction context into risk scores, and learns from confirmed \
            outcomes. Data lives in one SQLite file or in a PostgreSQL database that several \
            processes share, chosen by --db, else the RISKLOOP_DB environment variable, else \
            ./riskloop.sqlite.

            A first session:
              riskloop simulate --customers 1000 --days 30 --out data
              riskloop ingest data/events.jsonl
              riskloop label data/labels.csv
              riskloop stats

            Exit status: 0 on success, 64 for a bad option, 65 for bad input data (the message \
            names the file, line and field), 66 for a file that cannot be read, 70 for a \
            database failure, 73 for a file that cannot be written.
            """,
        version: "0.1.0",
        subcommands: [
            Demo.self, Simulate.self, Ingest.self, LabelCommand.self, Stats.self, Spec.self, Features.self, Train.self, Score.self,
            Evaluate.self, Retrain.self, Serve.self, Models.self, Export.self, Replay.self, Audit.self, Keys.self, Prune.self, Cases.self,
            BacktestCommand.self, PolicyCommand.self, OperatorStubCommand.self, OperatorsCommand.self,
        ]
    )
}

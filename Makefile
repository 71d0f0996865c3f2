# The two commands of the README. Each installs what it needs into .venv on first use.
#   make demo     the whole HKD DAG on the embedded demo corpus (CPU), then its report
#   make report   the Snakemake report of the finished run alone (results/report.html)
#   make test     the test suite (what CI runs)
#   make kill-campaign   the tiny workflow killed at KILLS random moments, rerun each time (README)
#   make rehearsal  the paper's TED-53 DAG at full width with tiny sizes, on CPU, in rehearsal/
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2
REPORT ?= results/report.html
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: demo report rehearsal test install lint clean-demo kill-campaign

install:
	bash tools/install.sh

demo: install
	snakemake --profile profiles/local --cores $(CORES)
	@echo "BLEU table: results/tables/bleu.md"; cat results/tables/bleu.md
	@$(MAKE) --no-print-directory report

# self-contained HTML (Snakemake's choice for a report without large files or folders): open it in a browser
report: install
	snakemake --report $(REPORT)
	@echo "report: $(CURDIR)/$(REPORT) ($$(du -h $(REPORT) | cut -f1))"

# config/rehearsal.yaml in the folder rehearsal/ (its own results/, logs/; config/ seen through a link)
rehearsal: install
	mkdir -p rehearsal && ln -sfn ../config rehearsal/config
	@start=$$(date +%s); \
	snakemake --profile profiles/local --cores $(CORES) --configfile config/rehearsal.yaml \
		--directory rehearsal && \
	echo "rehearsal: $$(( $$(date +%s) - start )) s wall on $(CORES) cores"
	@echo "BLEU beside the paper's Table 6: rehearsal/results/tables/vs_paper.md"

test: install
	bash tools/run-tests.sh

KILLS ?= 20
SEED ?= 1
kill-campaign: install
	python tests/kill_campaign.py --kills $(KILLS) --seed $(SEED)

lint: install
	snakemake --lint
	snakefmt --check .

clean-demo:
	rm -rf results logs benchmarks .snakemake

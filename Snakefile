# hkd: hierarchical knowledge distillation for multilingual NMT (Saleh et al.), end to end.
#   snakemake --cores 2                                   # the demo (config/config.yaml)
#   snakemake --cores 2 --configfile config/ted53.yaml    # the paper's 53 languages
#   snakemake --profile profiles/slurm --configfile config/ted53.yaml
#   snakemake --report results/report.html                # the report of a finished run
from snakemake.utils import min_version

min_version("9.0")


# The demo's config only when the command line names none: Snakemake would otherwise deep-merge
# the two, and keys of the demo's (its clustering types, evaluation limits) would leak into
# `--configfile config/ted53.yaml`. `--config KEY=VALUE` still amends either.
if not workflow.overwrite_configfiles:

    configfile: os.path.join(workflow.basedir, "config", "config.yaml")


report: "report/workflow.rst"


include: "rules/scheduling.smk"
include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/teachers.smk"
include: "rules/universal.smk"
include: "rules/clustering.smk"
include: "rules/assistants.smk"
include: "rules/student.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


rule all:
    input:
        RUN_TARGETS,
        REPORT_FILES,
        report_selective_pictures,

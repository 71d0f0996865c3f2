# How Snakemake schedules a local run (included by the Snakefile and by bench/snakemake_overhead.py).


# A local run starts a job whenever a core frees up, so it needs no job rate limit; and Snakemake
# 9.27's (--max-jobs-per-timespan, default 100/1s) costs a core: every pass of its scheduler loop
# arms one more one-second timer for the next, so the passes (each one re-reads the size of every
# ready job's inputs) multiply with every job that starts or ends. Measured by
# bench/snakemake_overhead.py: 120 one-second jobs on 2 cores, Snakemake's own CPU 68 s with the
# limit and 14 s without it, wall time 73 s and 68 s. A local run without an explicit other limit
# runs without one; cluster runs (not local) keep theirs, which paces the job submissions.
onstart:
    limit = workflow.scheduling_settings.max_jobs_per_timespan
    if (
        workflow.local_exec
        and limit
        and (limit.max_jobs, limit.timespan) == (100, 1)
    ):
        workflow.scheduler.job_rate_limiter = None

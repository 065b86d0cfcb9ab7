# A debug image that ships only cntr: the static binary and its cntr-*
# links. Build it (offline: FROM scratch pulls nothing) after
# `cargo build --release`:
#
#   docker build -t cntr .
#
# and attach to another container from it (see README, "Debug image"):
#
#   docker run --rm -it --pid=host --cgroupns=host \
#       --security-opt seccomp=unconfined --cap-add SYS_ADMIN \
#       --cap-add SYS_PTRACE --cap-add SYS_CHROOT --cap-add DAC_READ_SEARCH \
#       --cap-add SETPCAP -v /var/run/docker.sock:/var/run/docker.sock \
#       cntr exec web
#
# Its shell completions, for the host that runs it:
#
#   docker run --rm cntr completions bash >/usr/share/bash-completion/completions/cntr
FROM scratch
COPY target/release/cntr /usr/bin/cntr
# Exec form: there is no shell in this image.
RUN ["/usr/bin/cntr", "--install", "/usr/bin"]
# The base dir attach mounts the container's tree on (WORKDIR creates it;
# scratch has no mkdir).
WORKDIR /var/lib/cntr
WORKDIR /
ENTRYPOINT ["/usr/bin/cntr"]
CMD ["--help"]

//! `cntr completions SHELL`: prints the completion script for bash, zsh
//! or fish. The scripts complete applets, options, resolver names after
//! `-t`, and TARGET with the names of the running containers, from
//! `cntr list -q` (filtered by `-t` when given): cntr reads every engine's
//! files and sockets itself, in milliseconds, where asking each engine's
//! CLI would take a second. Takes no handoff and hands nothing on.

use crate::link::help;
use cntr::error::{Error, Result};
use cntr::handoff::Handoff;
use std::ffi::OsString;

const USAGE: &str = "\
Usage: cntr completions bash|zsh|fish
Print the shell completion script for cntr.

  bash   source it, or save it as /usr/share/bash-completion/completions/cntr
  zsh    save it as _cntr in a directory of $fpath, or source it
  fish   save it as ~/.config/fish/completions/cntr.fish, or source it
  -h, --help  show this help
";

/// The options every script knows, spelled once here (the applets and
/// resolvers come from their tables).
const FRONT_OPTS: &str = "-u --user -w --workdir -e --env --env-file -t --type --owner --seccomp --apparmor --tools --trace -n --dry-run -h --help";
/// The options of attach and exec that take a value, skipped with it
/// when the scripts look for the command and the target.
const VALUED: &str =
    "-u|--user|-w|--workdir|-e|--env|--env-file|--owner|--seccomp|--apparmor|--tools";
const LIST_OPTS: &str = "-t --type --owner --json -q --quiet -h --help";
const RESOLVE_OPTS: &str =
    "-t --type --owner --seccomp --tools --json --list -k --keep-fds -h --help";

const BASH: &str = r#"# bash completion for cntr
_cntr() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd="" target="" types="" i w
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            --) [ -n "$target" ] && return 0 ;;
            -t|--type) types=${COMP_WORDS[i+1]}; i=$((i + 1)) ;;
            @VALUED@) i=$((i + 1)) ;;
            -*) ;;
            *) if [ -z "$cmd" ]; then cmd=$w; elif [ -z "$target" ]; then target=$w; else return 0; fi ;;
        esac
    done
    case $prev in
        -t|--type)
            local done_part=""
            [[ $cur == *,* ]] && done_part=${cur%,*},
            COMPREPLY=($(compgen -P "$done_part" -W "@TYPES@" -- "${cur##*,}"))
            return 0 ;;
        --seccomp) COMPREPLY=($(compgen -W "on off" -- "$cur")); return 0 ;;
        --apparmor) COMPREPLY=($(compgen -W "auto off" -- "$cur")); return 0 ;;
        -w|--workdir|--env-file) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
        --tools) COMPREPLY=($(compgen -d -- "$cur") $(compgen -W "container: image:" -- "$cur")); return 0 ;;
        -u|--user|-e|--env|--owner) return 0 ;;
    esac
    if [ -z "$cmd" ]; then
        COMPREPLY=($(compgen -W "@APPLETS@ --help --version --install" -- "$cur"))
        return 0
    fi
    local opts=""
    case $cmd in
        attach|exec) opts="@FRONT_OPTS@" ;;
        list) opts="@LIST_OPTS@" ;;
        resolve) opts="@RESOLVE_OPTS@" ;;
        completions) [ -z "$target" ] && COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return 0 ;;
        *) return 0 ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [ -z "$target" ] && [ "$cmd" != list ]; then
        local names
        names=$("${COMP_WORDS[0]}" list -q ${types:+-t "$types"} 2>/dev/null)
        COMPREPLY=($(compgen -W "$names" -- "$cur"))
    fi
}
complete -o default -F _cntr cntr
"#;

const ZSH: &str = r#"#compdef cntr
# zsh completion for cntr
_cntr() {
    local cur=${words[CURRENT]} prev=${words[CURRENT-1]}
    local cmd="" target="" types="" i w
    for ((i = 2; i < CURRENT; i++)); do
        w=${words[i]}
        case $w in
            --) [[ -n $target ]] && return 0 ;;
            -t|--type) types=${words[i+1]}; i=$((i + 1)) ;;
            @VALUED@) i=$((i + 1)) ;;
            -*) ;;
            *) if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $target ]]; then target=$w; else return 0; fi ;;
        esac
    done
    case $prev in
        -t|--type)
            local done_part=""
            [[ $cur == *,* ]] && done_part=${cur%,*},
            compadd -P "$done_part" -- ${=:-@TYPES@}
            return 0 ;;
        --seccomp) compadd -- on off; return 0 ;;
        --apparmor) compadd -- auto off; return 0 ;;
        -w|--workdir|--env-file) _files; return 0 ;;
        --tools) compadd -S '' -- container: image:; _files -/; return 0 ;;
        -u|--user|-e|--env|--owner) return 0 ;;
    esac
    if [[ -z $cmd ]]; then
        compadd -- ${=:-@APPLETS@ --help --version --install}
        return 0
    fi
    local opts=""
    case $cmd in
        attach|exec) opts="@FRONT_OPTS@" ;;
        list) opts="@LIST_OPTS@" ;;
        resolve) opts="@RESOLVE_OPTS@" ;;
        completions) [[ -z $target ]] && compadd -- bash zsh fish; return 0 ;;
        *) return 0 ;;
    esac
    if [[ $cur == -* ]]; then
        compadd -- ${=opts}
    elif [[ -z $target && $cmd != list ]]; then
        local -a names
        names=(${(f)"$(${words[1]} list -q ${types:+-t} ${types:+$types} 2>/dev/null)"})
        compadd -- $names
    fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _cntr "$@"
elif (( $+functions[compdef] )); then
    compdef _cntr cntr
fi
"#;

const FISH: &str = r#"# fish completion for cntr
function __cntr_words
    # The words before the cursor, past `cntr`: the applet, then its target.
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    set -l out
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case -t --type @VALUED_WORDS@
                set skip 1
            case '-*'
            case '*'
                set -a out $w
        end
    end
    for w in $out
        echo $w
    end
end

function __cntr_types
    set -l words (commandline -opc)
    for i in (seq (count $words))
        if contains -- $words[$i] -t --type
            set -l next (math $i + 1)
            test $next -le (count $words); and echo $words[$next]
        end
    end
end

function __cntr_needs_applet
    test (count (__cntr_words)) -eq 0
end

function __cntr_needs_target
    set -l w (__cntr_words)
    test (count $w) -eq 1; and contains -- $w[1] attach exec resolve
end

function __cntr_targets
    set -l t (__cntr_types)
    if test -n "$t"
        cntr list -q -t $t[-1] 2>/dev/null
    else
        cntr list -q 2>/dev/null
    end
end

complete -c cntr -f
complete -c cntr -n __cntr_needs_applet -a "@APPLETS@"
complete -c cntr -n __cntr_needs_applet -l help -l version -l install
complete -c cntr -n __cntr_needs_target -a "(__cntr_targets)"
complete -c cntr -n "__fish_seen_subcommand_from completions" -a "bash zsh fish"
complete -c cntr -n "__fish_seen_subcommand_from attach exec list resolve" -s t -l type -x -a "@TYPES@"
complete -c cntr -n "__fish_seen_subcommand_from attach exec list resolve" -l owner -x
complete -c cntr -n "__fish_seen_subcommand_from attach exec resolve" -l seccomp -x -a "on off"
complete -c cntr -n "__fish_seen_subcommand_from attach exec" -s u -l user -x
complete -c cntr -n "__fish_seen_subcommand_from attach exec" -s w -l workdir -r -F
complete -c cntr -n "__fish_seen_subcommand_from attach exec" -s e -l env -x
complete -c cntr -n "__fish_seen_subcommand_from attach exec" -l env-file -r -F
complete -c cntr -n "__fish_seen_subcommand_from attach exec" -l apparmor -x -a "auto off"
complete -c cntr -n "__fish_seen_subcommand_from attach resolve" -l tools -x -a "(__fish_complete_directories) container: image:"
complete -c cntr -n "__fish_seen_subcommand_from attach exec" -s n -l dry-run
complete -c cntr -n "__fish_seen_subcommand_from attach exec" -l trace
complete -c cntr -n "__fish_seen_subcommand_from list resolve" -l json
complete -c cntr -n "__fish_seen_subcommand_from list" -s q -l quiet
complete -c cntr -n "__fish_seen_subcommand_from resolve" -l list -s k -l keep-fds
"#;

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    drop(h);
    let shell = match args.as_slice() {
        [s] if s == "-h" || s == "--help" => return help(USAGE),
        [s] => s.to_string_lossy().into_owned(),
        _ => {
            return Err(Error::usage(
                "completions takes one shell: bash, zsh or fish",
            ))
        }
    };
    let script = match shell.as_str() {
        "bash" => BASH,
        "zsh" => ZSH,
        "fish" => FISH,
        other => {
            return Err(Error::usage(format!(
                "no completions for '{other}': bash, zsh or fish"
            )))
        }
    };
    let applets: Vec<&str> = crate::APPLETS
        .iter()
        .map(|a| a.name.strip_prefix("cntr-").unwrap_or(a.name))
        .collect();
    let types: Vec<&str> = cntr::engine::ENGINES.iter().map(|e| e.name).collect();
    let text = script
        .replace("@APPLETS@", &applets.join(" "))
        .replace("@TYPES@", &types.join(" "))
        .replace("@VALUED@", VALUED)
        .replace("@VALUED_WORDS@", &VALUED.replace('|', " "))
        .replace("@FRONT_OPTS@", FRONT_OPTS)
        .replace("@LIST_OPTS@", LIST_OPTS)
        .replace("@RESOLVE_OPTS@", RESOLVE_OPTS);
    cntr::sys::write_all(rustix::stdio::stdout(), text.as_bytes())
        .map_err(|e| Error::sys("write the completion script", e))?;
    Ok(0)
}

# SPDX-License-Identifier: MIT
# bash completion for joules. Install as
#   /usr/share/bash-completion/completions/joules
# or source it from ~/.bashrc.

# Sensor ids, kinds and totals for -e: what 'joules list' finds here.
_joules_sensors()
{
	local ids
	ids=$("${COMP_WORDS[0]}" list 2>/dev/null | awk 'NR > 1 { print $1 }')
	printf '%s\n' $ids cpu dram gpu platform cpu-package cpu-core uncore
}

_joules()
{
	local cur prev words cword
	_init_completion -n = || return

	local cmd i
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} != -* ]]; then
			cmd=${words[i]}
			break
		fi
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W 'list gpu run record plot top --help --version' -- "$cur"))
		return
	fi

	# Once COMMAND has begun (after -- or the first word that is not an
	# option or an option's value), complete it as a shell would.
	if [[ $cmd == run || $cmd == record ]]; then
		local j
		for ((j = i + 1; j < cword; j++)); do
			case ${words[j]} in
			--) _command_offset $((j + 1)); return ;;
			-e | --sensors | -i | --interval | -r | --repeat | -o | --output | --duration | \
				--baseline | --kill-after) ((j++)) ;;
			-*) ;;
			*) _command_offset $j; return ;;
			esac
		done
	fi

	# joules top orders its rows by one of these.
	if [[ $cmd == top && ( $prev == -s || $prev == --sort ) ]]; then
		COMPREPLY=($(compgen -W 'kind power energy name' -- "$cur"))
		return
	fi

	case $prev in
	-e | --sensors)
		local IFS=$'\n'
		# Complete the last item of a comma-separated list.
		local head=${cur%,*} tail=${cur##*,}
		[[ $head == "$cur" ]] && head="" || head+=","
		COMPREPLY=($(compgen -P "$head" -W "$(_joules_sensors)" -- "$tail"))
		compopt -o nospace
		return
		;;
	-o | --output)
		if [[ $cmd == plot ]]; then
			_filedir '@(png|svg)'
		else
			_filedir
		fi
		return
		;;
	-i | --interval | -r | --repeat | --duration | --baseline | --kill-after | -m | --mark | -t | \
		--title | -s | --size)
		return
		;;
	esac

	local opts
	case $cmd in
	list) opts='--json --help' ;;
	run) opts='-e --sensors -i --interval -r --repeat --baseline --json --csv -o --output --kill-after --help --' ;;
	record) opts='-o --output -e --sensors -i --interval --wide --duration --kill-after --help --' ;;
	plot) opts='-o --output -m --mark -t --title -s --size --help' ;;
	top) opts='-i --interval -s --sort --once --help' ;;
	*) opts='--help' ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
	elif [[ $cmd == plot ]]; then
		_filedir csv
	elif [[ $cmd == run || $cmd == record ]]; then
		COMPREPLY=($(compgen -c -- "$cur"))
	fi
}
complete -F _joules joules

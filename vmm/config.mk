# Turning people's input into a validated struct vm_config.
LIB_SRCS += vmm/config.c vmm/config_validate.c vmm/config_cmdline.c \
            vmm/config_json.c vmm/cli.c vmm/size.c

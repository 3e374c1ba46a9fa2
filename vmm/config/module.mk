# Turning people's input into a validated struct vm_config.
LIB_SRCS += vmm/config/config.c vmm/config/config_validate.c vmm/config/config_cmdline.c \
            vmm/config/config_json.c vmm/config/cli.c vmm/config/size.c

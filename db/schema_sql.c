/* db/schema_sql.c — db/schema.sql embedded in the binary as the NUL-terminated string db_schema_sql.
 *
 * The assembler includes the file's bytes (.incbin, path relative to the repository root where
 * make runs); the Makefile makes this object depend on db/schema.sql. The symbol type is written
 * %object, which every target's assembler takes (on 32-bit ARM '@' starts a comment). */
#include "db/db.h"

__asm__(".section .rodata\n"
        ".global db_schema_sql\n"
        ".type db_schema_sql, %object\n"
        ".balign 16\n"
        "db_schema_sql:\n"
        ".incbin \"db/schema.sql\"\n"
        ".byte 0\n"
        ".size db_schema_sql, . - db_schema_sql\n"
        ".previous\n");

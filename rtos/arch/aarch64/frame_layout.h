/* Sizes and offsets of the trap and switch frames (frame.hpp), for the
 * assembly (start.S's vector slots, vectors.S); frame.hpp checks them. */
#pragma once

#define FRAME_SIZE 272 /* TrapFrame */
#define X30_OFF 240    /* x30, then sp before the trap */
#define ELR_OFF 256    /* ELR_EL1, then SPSR_EL1 */
#define SWITCH_SIZE 96 /* SwitchFrame: x19..x30 */
